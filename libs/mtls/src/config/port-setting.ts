/** A port from a variable such as PORT, or an Error naming the variable; `fallback` when unset. */
export function portSetting(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) throw new Error(`${name}: expected a port number, got "${value}"`);
  return port;
}
