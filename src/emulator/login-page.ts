/**
 * The login host's HTML: the emulator's stand-in for Genesys Cloud's sign-in page. No script at
 * all, so the page can carry a CSP that forbids it; plain forms do the work.
 */

export interface LoginChoice {
  id: string;
  name: string;
  email: string;
  orgName: string;
}

/**
 * `form-action *`: after the POST the browser follows our 302 to the app's redirect URI, and
 * form-action also governs that redirect. `frame-ancestors 'none'`: Genesys' login cannot be
 * framed either, so an app must sign in by navigation or popup.
 */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'; base-uri 'none'";

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}
main{max-width:36rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}
ul{list-style:none;padding:0;margin:0}
li{margin:.5rem 0}
button{width:100%;text-align:left;padding:.75rem 1rem;border:1px solid #8a94a3;border-radius:6px;background:#fff;font:inherit;cursor:pointer}
button:hover,button:focus-visible{border-color:#ff4f1f;outline:2px solid #ff4f1f;outline-offset:1px}
.who{display:block;font-weight:600}
.detail{display:block;color:#4a5361;font-size:.9rem}
.note{color:#4a5361;font-size:.9rem}
`;

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );
}

/** A complete page with the login host's security headers; never cached (it carries a state value). */
export function htmlResponse(status: number, title: string, body: string): Response {
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body>
</html>
`;
  return new Response(html, {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

/**
 * One form per user, each POSTing the original authorize parameters plus `user_id`. The button's
 * accessible name is exactly "Sign in as <name>" (what a UI test asks for); org and email are its
 * description, visible under the name.
 */
export function loginPage(
  clientName: string,
  params: Record<string, string>,
  users: LoginChoice[],
): Response {
  const hidden = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const items = users.map((user, i) => {
    const label = `Sign in as ${user.name}`;
    return `<li><form method="post" action="/oauth/authorize">${hidden}<input type="hidden" name="user_id" value="${escapeHtml(user.id)}"><button type="submit" aria-label="${escapeHtml(label)}" aria-describedby="user-${i}"><span class="who">${escapeHtml(label)}</span><span class="detail" id="user-${i}">${escapeHtml(user.orgName)} · ${escapeHtml(user.email)}</span></button></form></li>`;
  });
  const list = items.length
    ? `<ul>${items.join('')}</ul>`
    : '<p>No users yet. Create one with <code>POST /__emulator/users</code>, then reload this page.</p>';
  const body = `<h1>Sign in to Genesys Cloud (emulator)</h1>
<p><strong>${escapeHtml(clientName)}</strong> asks you to sign in. Choose a user:</p>
${list}
<p class="note">This is the local Genesys Cloud emulator: no password is asked.</p>`;
  return htmlResponse(200, 'Sign in to Genesys Cloud (emulator)', body);
}

/** The page for requests we must not redirect (unknown client, unregistered redirect URI). */
export function loginErrorPage(status: number, problem: string): Response {
  const body = `<h1>Sign-in failed</h1><p role="alert">${escapeHtml(problem)}</p>`;
  return htmlResponse(status, 'Sign-in failed — Genesys Cloud (emulator)', body);
}
