import { readJson } from './api.js';

/**
 * Downloads an authenticated file: the API wants our session as a bearer header, which a plain
 * link cannot send, so fetch it and hand the browser a blob with the server's file name.
 */
export async function download(path: string, token: string): Promise<void> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) await readJson(res); // throws the problem
  const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'audit';
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked after the browser has taken it (a click starts the download asynchronously).
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
