/**
 * The q-value an `Accept` header gives a media type (RFC 9110 §12.5.1): the most specific
 * matching media range decides (`type/subtype`, then `type/*`, then `*\/*`); none matching is 0;
 * no header at all accepts anything (1). `wildcards: false` counts only the exact range, for a
 * type a client must ask for by name.
 */
export function mediaQuality(header: string | undefined, mediaType: string, { wildcards = true } = {}): number {
  if (header === undefined || header.trim() === '') return wildcards ? 1 : 0;
  const [wantedType, wantedSubtype] = mediaType.split('/');
  let best: { specificity: number; q: number } | undefined;
  for (const range of header.split(',')) {
    const [mediaRange, ...params] = range.split(';').map((part) => part.trim());
    const [type, subtype] = mediaRange.toLowerCase().split('/');
    const specificity =
      type === wantedType && subtype === wantedSubtype
        ? 3
        : !wildcards
          ? 0
          : type === wantedType && subtype === '*'
            ? 2
            : type === '*' && subtype === '*'
              ? 1
              : 0;
    if (specificity === 0) continue;
    const q = qValue(params);
    if (q === undefined) continue; // a malformed q makes the range unusable
    if (!best || specificity > best.specificity || (specificity === best.specificity && q > best.q)) best = { specificity, q };
  }
  return best?.q ?? 0;
}

/** Whether an `Accept` header admits `application/json`, with a q-value above 0. */
export function acceptsJson(header: string | undefined): boolean {
  return mediaQuality(header, 'application/json') > 0;
}

function qValue(params: string[]): number | undefined {
  const q = params.find((param) => /^q\s*=/i.test(param));
  if (q === undefined) return 1;
  const value = q.split('=')[1].trim();
  // RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : undefined;
}
