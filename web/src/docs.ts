// The API reference: redoc's standalone bundle, served from our origin, rendering /openapi.json.
declare const __REDOC__: string;
declare global {
  interface Window {
    Redoc?: { init(spec: string, options: object, el: HTMLElement | null): void };
  }
}

const script = document.createElement('script');
script.src = `${__REDOC__}/redoc.standalone.js`;
script.onload = () =>
  window.Redoc?.init('/openapi.json', { hideDownloadButton: false }, document.getElementById('redoc'));
document.head.append(script);

export {};
