/**
 * Whether an `Accept` header admits `application/json` (RFC 9110 §12.5.1): the most specific
 * matching media range decides, and its q-value must be above 0. No header accepts anything.
 */
export function acceptsJson(header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  let best: { specificity: number; q: number } | undefined;
  for (const range of header.split(',')) {
    const [mediaRange, ...params] = range.split(';').map((part) => part.trim());
    const [type, subtype] = mediaRange.toLowerCase().split('/');
    const specificity =
      type === 'application' && subtype === 'json' ? 3 : type === 'application' && subtype === '*' ? 2 : type === '*' && subtype === '*' ? 1 : 0;
    if (specificity === 0) continue;
    const q = qValue(params);
    if (q === undefined) continue; // a malformed q makes the range unusable
    if (!best || specificity > best.specificity || (specificity === best.specificity && q > best.q)) best = { specificity, q };
  }
  return best !== undefined && best.q > 0;
}

function qValue(params: string[]): number | undefined {
  const q = params.find((param) => /^q\s*=/i.test(param));
  if (q === undefined) return 1;
  const value = q.split('=')[1].trim();
  // RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : undefined;
}
