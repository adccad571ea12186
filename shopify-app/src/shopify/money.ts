// Fiat amounts as Shopify writes them ("20.0", "19.99") in a currency's minor units (BigInt),
// and what a USDT payment is worth in the order's currency at the invoice's locked rate.

/** Digits after the point in `currency` (2 for EUR, 0 for JPY), from the runtime's ISO 4217 data. */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** `value` (a plain decimal string) scaled by 10^digits, rounded down. */
export function scaled(value: string, digits: number): bigint {
  const [whole, fraction = ''] = value.split('.');
  return BigInt(whole + fraction.padEnd(digits, '0').slice(0, digits));
}

/** Minor units back to a decimal string of the currency ("2000" → "20.00"). */
export function formatMinor(minor: bigint, digits: number): string {
  const text = minor.toString().padStart(digits + 1, '0');
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * The fiat worth, in minor units rounded down, of `usdt` paid at `rate` (USDT per unit of the
 * currency): usdt / rate. Rounding down never captures more than was paid.
 */
export function usdtToMinor(usdt: string, rate: string, digits: number): bigint {
  const places = Math.max(usdt.split('.')[1]?.length ?? 0, rate.split('.')[1]?.length ?? 0);
  const paid = scaled(usdt, places);
  const perUnit = scaled(rate, places);
  if (perUnit === 0n) return 0n;
  return (paid * 10n ** BigInt(digits)) / perUnit;
}
