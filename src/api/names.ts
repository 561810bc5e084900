/**
 * Name and key rules from Kubernetes' apimachinery util/validation, with its exact messages.
 * Each check returns the problems found; an empty list means the value is fine.
 */

const DNS1123_LABEL_FORMAT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FORMAT = `${DNS1123_LABEL_FORMAT}(\\.${DNS1123_LABEL_FORMAT})*`;
const DNS1035_LABEL_FORMAT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME_FORMAT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FORMAT = `(${QUALIFIED_NAME_FORMAT})?`;
const C_IDENTIFIER_FORMAT = '[A-Za-z_][A-Za-z0-9_]*';
const ENV_VAR_NAME_FORMAT = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const CONFIG_KEY_FORMAT = '[-._a-zA-Z0-9]+';
const PERCENT_FORMAT = '[0-9]+%';

const whole = (format: string): RegExp => new RegExp(`^${format}$`);
const DNS1123_LABEL = whole(DNS1123_LABEL_FORMAT);
const DNS1123_SUBDOMAIN = whole(DNS1123_SUBDOMAIN_FORMAT);
const DNS1035_LABEL = whole(DNS1035_LABEL_FORMAT);
const QUALIFIED_NAME = whole(QUALIFIED_NAME_FORMAT);
const LABEL_VALUE = whole(LABEL_VALUE_FORMAT);
const C_IDENTIFIER = whole(C_IDENTIFIER_FORMAT);
const ENV_VAR_NAME = whole(ENV_VAR_NAME_FORMAT);
const CONFIG_KEY = whole(CONFIG_KEY_FORMAT);
const PERCENT = whole(PERCENT_FORMAT);

export const DNS1123_LABEL_MAX_LENGTH = 63;
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
export const LABEL_VALUE_MAX_LENGTH = 63;
const QUALIFIED_NAME_MAX_LENGTH = 63;
const PORT_NAME_MAX_LENGTH = 15;

export const maxLengthError = (length: number): string => `must be no more than ${length} characters`;
export const emptyError = (): string => 'must be non-empty';

/** Kubernetes' RegexError, down to the doubled space between examples. */
export function regexError(message: string, format: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${format}')`;
  const shown = examples.map((example, index) => `${index > 0 ? ' or ' : ''}'${example}', `).join('');
  return `${message} (e.g. ${shown}regex used for validation is '${format}')`;
}

const DNS1123_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_MESSAGE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

export function isDns1123Label(value: string): string[] {
  const errors: string[] = [];
  if (value.length > DNS1123_LABEL_MAX_LENGTH) errors.push(maxLengthError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1123_LABEL.test(value)) errors.push(regexError(DNS1123_LABEL_MESSAGE, DNS1123_LABEL_FORMAT, 'my-name', '123-abc'));
  return errors;
}

export function isDns1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errors.push(maxLengthError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!DNS1123_SUBDOMAIN.test(value)) errors.push(regexError(DNS1123_SUBDOMAIN_MESSAGE, DNS1123_SUBDOMAIN_FORMAT, 'example.com'));
  return errors;
}

/** Service names: like a DNS-1123 label but starting with a letter. */
export function isDns1035Label(value: string): string[] {
  const errors: string[] = [];
  if (value.length > DNS1123_LABEL_MAX_LENGTH) errors.push(maxLengthError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1035_LABEL.test(value)) errors.push(regexError(DNS1035_LABEL_MESSAGE, DNS1035_LABEL_FORMAT, 'my-name', 'abc-123'));
  return errors;
}

/** Label and annotation keys, finalizers: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63. */
export function isQualifiedName(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errors.push(`prefix part ${emptyError()}`);
    else errors.push(...isDns1123Subdomain(prefix).map((message) => `prefix part ${message}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME_FORMAT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errors.push(`name part ${emptyError()}`);
  else if (name.length > QUALIFIED_NAME_MAX_LENGTH) errors.push(`name part ${maxLengthError(QUALIFIED_NAME_MAX_LENGTH)}`);
  if (!QUALIFIED_NAME.test(name)) {
    errors.push(`name part ${regexError(QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME_FORMAT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errors;
}

export function isValidLabelValue(value: string): string[] {
  const errors: string[] = [];
  if (value.length > LABEL_VALUE_MAX_LENGTH) errors.push(maxLengthError(LABEL_VALUE_MAX_LENGTH));
  if (!LABEL_VALUE.test(value)) errors.push(regexError(LABEL_VALUE_MESSAGE, LABEL_VALUE_FORMAT, 'MyValue', 'my_value', '12345'));
  return errors;
}

/** A strict C identifier, as `$(VAR)` references in command/args need. */
export function isCIdentifier(value: string): string[] {
  if (C_IDENTIFIER.test(value)) return [];
  return [
    regexError(
      "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'",
      C_IDENTIFIER_FORMAT,
      'my_name',
      'MY_NAME',
      'MyName',
    ),
  ];
}

/** Environment variable names: Kubernetes accepts more than C identifiers (dots and dashes, no leading digit). */
export function isEnvVarName(value: string): string[] {
  const errors: string[] = [];
  if (!ENV_VAR_NAME.test(value)) {
    errors.push(
      regexError(
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
        ENV_VAR_NAME_FORMAT,
        'my.env-name',
        'MY_ENV.NAME',
        'MyEnvName1',
      ),
    );
  }
  errors.push(...hasChangeDirectoryPrefix(value));
  return errors;
}

/** ConfigMap and Secret keys: they become file names, so no `.` or `..` tricks. */
export function isConfigMapKey(value: string): string[] {
  const errors: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errors.push(maxLengthError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!CONFIG_KEY.test(value)) {
    errors.push(
      regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_KEY_FORMAT, 'key.name', 'KEY_NAME', 'key-name'),
    );
  }
  errors.push(...hasChangeDirectoryPrefix(value));
  return errors;
}

function hasChangeDirectoryPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

/** Names become URL path segments (and, for pm8s, file names on nodes). */
export function isValidPathSegmentName(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  const errors: string[] = [];
  for (const illegal of ['/', '%']) if (value.includes(illegal)) errors.push(`may not contain '${illegal}'`);
  return errors;
}

export function isValidPortNumber(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** The same rule under the name some callers use. */
export const validatePortNumber = isValidPortNumber;

/** IANA_SVC_NAME: named container and service ports. */
export function isValidPortName(value: string): string[] {
  const errors: string[] = [];
  if (value.length > PORT_NAME_MAX_LENGTH) errors.push(maxLengthError(PORT_NAME_MAX_LENGTH));
  if (!/^[-a-z0-9]+$/.test(value)) errors.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(value)) errors.push('must contain at least one letter (a-z)');
  if (value.includes('--')) errors.push('must not contain consecutive hyphens');
  if (value.startsWith('-') || value.endsWith('-')) errors.push('must not begin or end with a hyphen');
  return errors;
}

export function isValidPercent(value: string): string[] {
  return PERCENT.test(value)
    ? []
    : [regexError("a valid percent string must be a numeric string followed by an ending '%'", PERCENT_FORMAT, '1%', '93%')];
}

/** Kubernetes' maskTrailingDash: a generateName prefix may end in '-' because a suffix follows it. */
export function prefixNameCheck(check: (value: string) => string[]): (value: string, isPrefix: boolean) => string[] {
  return (value, isPrefix) => check(isPrefix && value.length > 1 && value.endsWith('-') ? `${value.slice(0, -2)}a` : value);
}
