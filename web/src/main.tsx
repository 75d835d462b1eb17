// Spark's type is Noto Sans and Urbanist, which it does not load itself: we serve them too.
import '@fontsource/noto-sans/400.css';
import '@fontsource/noto-sans/600.css';
import '@fontsource/noto-sans/700.css';
import '@fontsource/urbanist/700.css';
import { render } from 'preact';
import { App } from './app.js';
import './style.css';

declare const __SPARK__: string;

// Spark's components and base styles come from our own origin (versioned, cached for good).
const css = document.createElement('link');
css.rel = 'stylesheet';
css.href = `${__SPARK__}/genesys-webcomponents.css`;
document.head.append(css);
void import(/* @vite-ignore */ `${__SPARK__}/genesys-webcomponents.esm.js`);

render(<App />, document.getElementById('app')!);
