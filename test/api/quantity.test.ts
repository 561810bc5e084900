import t from 'tap';
import {
  QuantityError,
  compareQuantity,
  formatQuantity,
  isNegative,
  isValidQuantity,
  parseQuantity,
  quantityToBytes,
  quantityToMilli,
  quantityValue,
} from '../../src/api/quantity.js';

t.test('parses suffixes exactly', async (t) => {
  t.equal(quantityToMilli('250m'), 250n);
  t.equal(quantityToMilli('1.5'), 1500n);
  t.equal(quantityToMilli(0.5), 500n);
  t.equal(quantityToBytes('128Mi'), 134217728n);
  t.equal(quantityValue('1G'), 1000000000n);
  t.equal(quantityToBytes('0.5Gi'), 536870912n);
  t.equal(quantityValue('1e3'), 1000n);
  t.equal(quantityValue('1E3'), 1000n);
  t.equal(quantityValue('100k'), 100000n);
  t.equal(quantityValue('2Ki'), 2048n);
  t.equal(quantityValue('1E'), 10n ** 18n, 'E alone is exa, not an exponent');
  t.equal(quantityToMilli('100n'), 1n, 'rounds up like MilliValue');
  t.equal(quantityValue('1500m'), 2n, 'rounds up like Value');
  t.equal(quantityToMilli('0.1'), 100n, 'no float drift');
  t.equal(quantityToMilli('+3'), 3000n);
});

t.test('huge values stay exact', async (t) => {
  t.equal(quantityValue('999999999999999999999999'), 999999999999999999999999n);
  t.equal(quantityValue('8Ei'), 8n * 2n ** 60n);
  t.equal(quantityValue('1e30'), 10n ** 30n);
  t.throws(() => parseQuantity('1e999999999'), QuantityError, 'absurd exponents are refused, not computed');
});

t.test('negatives', async (t) => {
  t.ok(isNegative('-5Mi'));
  t.equal(quantityToBytes('-5Mi'), -5242880n);
  t.notOk(isNegative('0'));
  t.equal(quantityToMilli('-0.0001'), -1n, 'rounds away from zero');
});

t.test('rejects malformed input with the Kubernetes message', async (t) => {
  for (const bad of ['abc', '', '1.5.5', '.', '--1', '1 Mi', 'Mi', '1Zi', 'NaN']) {
    t.notOk(isValidQuantity(bad), bad);
    t.throws(() => parseQuantity(bad), QuantityError, bad);
  }
  t.throws(() => parseQuantity('abc'), {
    message: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  });
  t.throws(() => parseQuantity('1kk'), { message: "unable to parse quantity's suffix" });
  t.notOk(isValidQuantity(Number.NaN));
  t.notOk(isValidQuantity({}));
  t.ok(isValidQuantity(2));
});

t.test('compares across formats', async (t) => {
  t.equal(compareQuantity('1Gi', '1G'), 1);
  t.equal(compareQuantity('1000m', '1'), 0);
  t.equal(compareQuantity('500m', 1), -1);
});

t.test('formats canonically', async (t) => {
  t.equal(formatQuantity('0.5Gi'), '512Mi');
  t.equal(formatQuantity('1500'), '1500');
  t.equal(formatQuantity('2000'), '2k');
  t.equal(formatQuantity('0.5'), '500m');
  t.equal(formatQuantity('1024Mi'), '1Gi');
  t.equal(formatQuantity('512'), '512');
  t.equal(formatQuantity('-5Mi'), '-5Mi');
  t.equal(formatQuantity('1e3'), '1e3');
  t.equal(formatQuantity('0'), '0');
});
