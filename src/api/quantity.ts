/** Kubernetes resource.Quantity, held as an exact fraction so "0.1" + "0.2" never drifts. */

export const QUANTITY_FORMAT_MESSAGE =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX_MESSAGE = "unable to parse quantity's suffix";

export class QuantityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityError';
  }
}

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** value = numerator / denominator exactly; `format` remembers how it was written, for printing. */
export interface Quantity {
  readonly numerator: bigint;
  readonly denominator: bigint;
  readonly format: QuantityFormat;
}

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
// Guards against "1e999999999" turning into a billion-digit bigint; far beyond any real resource.
const MAX_EXPONENT = 1000;

const NUMBER_PART = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)/;
const SUFFIX_PART = /^[eEinumkKMGTP]*[-+]?[0-9]*$/;

export function parseQuantity(input: string | number): Quantity {
  if (typeof input === 'number' && !Number.isFinite(input)) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
  const text = String(input);
  const numberMatch = NUMBER_PART.exec(text);
  if (!numberMatch) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
  const numberText = numberMatch[0];
  const suffix = text.slice(numberText.length);
  if (!SUFFIX_PART.test(suffix)) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);

  const negative = numberText.startsWith('-');
  const unsigned = numberText.replace(/^[+-]/, '');
  const [whole = '', fraction = ''] = unsigned.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = 10n ** BigInt(fraction.length);
  if (negative) numerator = -numerator;

  let format: QuantityFormat;
  const decimal = DECIMAL_SUFFIXES[suffix];
  const binary = BINARY_SUFFIXES[suffix];
  if (decimal !== undefined) {
    format = 'DecimalSI';
    if (decimal >= 0) numerator *= 10n ** BigInt(decimal);
    else denominator *= 10n ** BigInt(-decimal);
  } else if (binary !== undefined) {
    format = 'BinarySI';
    numerator *= 2n ** BigInt(binary);
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = 'DecimalExponent';
    const exponent = Number(suffix.slice(1));
    if (Math.abs(exponent) > MAX_EXPONENT) throw new QuantityError(`quantity exponent must be between -${MAX_EXPONENT} and ${MAX_EXPONENT}`);
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  } else {
    throw new QuantityError(SUFFIX_MESSAGE);
  }
  return normalize(numerator, denominator, format);
}

export function isValidQuantity(input: unknown): boolean {
  if (typeof input !== 'string' && typeof input !== 'number') return false;
  try {
    parseQuantity(input);
    return true;
  } catch (error) {
    if (error instanceof QuantityError) return false;
    throw error;
  }
}

const asQuantity = (q: Quantity | string | number): Quantity => (typeof q === 'object' ? q : parseQuantity(q));

/** ceil(q * 1000), rounding away from zero like Kubernetes' MilliValue: "0.1m" → 1n. */
export const quantityToMilli = (q: Quantity | string | number): bigint => scaledValue(asQuantity(q), 1000n);

/** ceil(q), rounding away from zero like Kubernetes' Value: "128Mi" → 134217728n, "0.5" → 1n. */
export const quantityValue = (q: Quantity | string | number): bigint => scaledValue(asQuantity(q), 1n);

/** The same as quantityValue, named for memory and storage. */
export const quantityToBytes = quantityValue;

export function compareQuantity(a: Quantity | string | number, b: Quantity | string | number): -1 | 0 | 1 {
  const left = asQuantity(a);
  const right = asQuantity(b);
  const difference = left.numerator * right.denominator - right.numerator * left.denominator;
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

export const isNegative = (q: Quantity | string | number): boolean => asQuantity(q).numerator < 0n;

export const isZero = (q: Quantity | string | number): boolean => asQuantity(q).numerator === 0n;

/** Kubernetes' canonical form (Quantity.String()): "0.5Gi" → "512Mi", "1500" → "1500", "0.5" → "500m". */
export function formatQuantity(q: Quantity | string | number): string {
  const quantity = asQuantity(q);
  const negative = quantity.numerator < 0n;
  const magnitude = { numerator: negative ? -quantity.numerator : quantity.numerator, denominator: quantity.denominator };
  const sign = negative ? '-' : '';
  if (magnitude.numerator === 0n) return '0';
  if (quantity.format === 'BinarySI' && magnitude.denominator === 1n) {
    const whole = magnitude.numerator;
    if (whole < 1024n) return `${sign}${whole}`;
    const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
    let power = 0;
    let mantissa = whole;
    while (power < suffixes.length - 1 && mantissa % 1024n === 0n) {
      mantissa /= 1024n;
      power += 1;
    }
    return `${sign}${mantissa}${suffixes[power]}`;
  }
  // Decimal forms: the precision floor is nano, rounded up, then the largest exponent (multiple of 3) keeping an integer mantissa.
  let nanos = (magnitude.numerator * 1_000_000_000n) / magnitude.denominator;
  if ((magnitude.numerator * 1_000_000_000n) % magnitude.denominator !== 0n) nanos += 1n;
  let exponent = -9;
  while (nanos % 1000n === 0n && exponent < 18) {
    nanos /= 1000n;
    exponent += 3;
  }
  if (quantity.format === 'DecimalExponent') return `${sign}${nanos}${exponent === 0 ? '' : `e${exponent}`}`;
  const suffix = Object.entries(DECIMAL_SUFFIXES).find(([, value]) => value === exponent)?.[0] ?? '';
  return `${sign}${nanos}${suffix}`;
}

function scaledValue(quantity: Quantity, scale: bigint): bigint {
  const scaled = quantity.numerator * scale;
  const truncated = scaled / quantity.denominator;
  if (scaled % quantity.denominator === 0n) return truncated;
  return scaled < 0n ? truncated - 1n : truncated + 1n;
}

function normalize(numerator: bigint, denominator: bigint, format: QuantityFormat): Quantity {
  const divisor = gcd(numerator < 0n ? -numerator : numerator, denominator);
  return divisor > 1n ? { numerator: numerator / divisor, denominator: denominator / divisor, format } : { numerator, denominator, format };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
