import { useEffect, useState } from 'preact/hooks';

/** Hash routing (`/#/rules/rule_1`): the server only ever serves `/`. */
export function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

export const go = (path: string): void => {
  location.hash = `#/${path}`;
};
