// decodeURIComponent for paths clients send: a malformed percent-escape is left as it is (the
// name then simply matches nothing) instead of throwing into a 500.
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
