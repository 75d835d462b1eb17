import { createHash, randomBytes } from 'node:crypto';

/**
 * A user's Genesys token through the emulator's real PKCE login, as the admin page gets one: the
 * sign-in form's POST (what the user's click sends), the 302 with the code, the code exchange.
 */
export async function signInWithPkce(
  emulatorUrl: string,
  client: { id: string; redirectUri: string },
  userId: string,
): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('base64url');
  const form = new URLSearchParams({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: client.redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    user_id: userId,
  });
  const back = await fetch(`${emulatorUrl}/oauth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    redirect: 'manual',
  });
  await back.arrayBuffer();
  const location = new URL(back.headers.get('location') ?? 'about:blank');
  const code = location.searchParams.get('code');
  if (back.status !== 302 || !code || location.searchParams.get('state') !== state) {
    throw new Error(`sign-in refused: ${back.status} ${location.href}`);
  }
  const res = await fetch(`${emulatorUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.id,
      code_verifier: verifier,
    }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token exchange: ${res.status}`);
  return body.access_token;
}
