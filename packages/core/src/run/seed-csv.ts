// The question's output format: `validation-curve-accuracy.csv`, lines "%i;%0.6f;%0.6f".

/**
 * Python's "%0.6f": correctly rounded, ties to even (JS toFixed rounds ties up, which differs for
 * values such as 65/128 = 0.5078125); nan/inf spelled as Python prints them.
 */
export function formatPercentF6(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const rounded = x.toFixed(6);
  const exact = Math.abs(x).toFixed(40); // exact for the dyadic rationals an accuracy can be
  const tail = exact.slice(exact.indexOf('.') + 7);
  if (!/^50*$/.test(tail)) return rounded;
  // A tie: toFixed went away from zero; go to the even neighbour instead when that is odd.
  const lastDigit = Number(rounded[rounded.length - 1]);
  if (lastDigit % 2 === 0) return rounded;
  const down = (Math.abs(x) - 5e-7).toFixed(6);
  return x < 0 ? `-${down}` : down;
}

/** One CSV line (with its newline) for an evaluation; a skipped train evaluation reads `nan`. */
export function seedCsvLine(step: number, train: number | null, test: number): string {
  return `${step};${formatPercentF6(train ?? NaN)};${formatPercentF6(test)}\n`;
}
