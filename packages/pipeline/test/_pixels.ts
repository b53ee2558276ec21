/** How many bytes of two equally long images differ (tests compare generated pixels with it). */
export function differingBytes(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`Cannot compare images of ${a.length} and ${b.length} bytes`);
  let count = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) count++;
  return count;
}
