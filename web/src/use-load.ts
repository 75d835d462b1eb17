import { useCallback, useEffect, useState } from 'preact/hooks';

/** Loads something on mount (and on `reload`), keeping the last value while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = useCallback(() => {
    load()
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch(setError);
  }, deps);
  useEffect(reload, [reload]);
  return { data, error, reload };
}
