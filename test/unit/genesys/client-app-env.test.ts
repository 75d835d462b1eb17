import { describe, expect, it } from 'vitest';
import {
  APPS_ORIGINS,
  clientAppEnv,
  ENVIRONMENT_NAMES,
  environmentOfOrigin,
} from '../../../src/genesys/client-app-env.js';
import { ENVIRONMENTS } from '../../../src/genesys/regions.js';

const q = (params: Record<string, string>) => clientAppEnv(new URLSearchParams(params));

describe('the environment Genesys Cloud opened the page from', () => {
  it.each(ENVIRONMENTS.map((env) => [env]))('https://apps.%s → that environment', (env) => {
    expect(q({ gcHostOrigin: `https://apps.${env}`, langTag: 'en-us' })).toEqual({
      kind: 'ok',
      environment: env,
      langTag: 'en-us',
    });
    expect(environmentOfOrigin(`https://apps.${env}/`)).toBe(env);
    expect(environmentOfOrigin(`https://APPS.${env.toUpperCase()}`)).toBe(env);
  });

  it('every environment name maps to a listed environment, and a matching gcTargetEnv is accepted', () => {
    for (const [name, env] of Object.entries(ENVIRONMENT_NAMES)) {
      expect(ENVIRONMENTS).toContain(env);
      expect(q({ gcHostOrigin: `https://apps.${env}`, gcTargetEnv: name }).kind).toBe('ok');
    }
    expect(APPS_ORIGINS).toHaveLength(ENVIRONMENTS.length);
  });

  it('reads the legacy names: hostOrigin, targetEnv, environment (a domain) and pcLangTag', () => {
    expect(q({ hostOrigin: 'https://apps.mypurecloud.ie', targetEnv: 'prod-euw1' })).toMatchObject({
      kind: 'ok',
      environment: 'mypurecloud.ie',
    });
    expect(q({ environment: 'mypurecloud.de', pcLangTag: 'de' })).toEqual({
      kind: 'ok',
      environment: 'mypurecloud.de',
      langTag: 'de',
    });
  });

  it('gcTargetEnv is a name, not a domain: a known name of another environment is refused', () => {
    expect(q({ gcHostOrigin: 'https://apps.mypurecloud.ie', gcTargetEnv: 'prod' }).kind).toBe('refused');
    // An unknown name (a new region) does not override what the host origin says.
    expect(q({ gcHostOrigin: 'https://apps.mypurecloud.ie', gcTargetEnv: 'prod-xyz9' }).kind).toBe('ok');
  });

  it('opened directly: no environment, so the page offers the picker', () => {
    expect(q({})).toEqual({ kind: 'none', langTag: undefined });
  });

  it.each([
    'https://apps.mypurecloud.com.evil.io',
    'https://apps.mypurecloud.com.',
    'https://evil.io/?https://apps.mypurecloud.com',
    'https://apps.mypurecloud.com/path',
    'https://apps.mypurecloud.com:8443',
    'https://user@apps.mypurecloud.com',
    'http://apps.mypurecloud.com',
    'https://mypurecloud.com',
    'https://login.mypurecloud.com',
    'https://apps.evilmypurecloud.com',
    'https://xapps.mypurecloud.com',
    'javascript:alert(1)',
    'apps.mypurecloud.com',
    '',
    ' https://apps.mypurecloud.com',
  ])('refuses %j', (origin) => {
    expect(environmentOfOrigin(origin)).toBeUndefined();
    if (origin) expect(q({ gcHostOrigin: origin }).kind).toBe('refused');
  });

  it('refuses a legacy environment that is not listed, and ignores a malformed langTag', () => {
    expect(q({ environment: 'evil.io' }).kind).toBe('refused');
    expect(q({ environment: 'mypurecloud.com', langTag: '<script>' })).toMatchObject({ langTag: undefined });
  });
});
