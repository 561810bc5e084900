/** Label selectors (set-based, as in `kubectl get -l`) and field selectors (equality only). */

import { badRequest } from './errors.js';
import { isQualifiedName, isValidLabelValue } from './names.js';
import { isRecord } from './types.js';
import type { KubeObject } from './types.js';

export type LabelOperator = 'In' | 'NotIn' | 'Equals' | 'DoubleEquals' | 'NotEquals' | 'Exists' | 'DoesNotExist';

export interface Requirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export interface LabelSelector {
  requirements: Requirement[];
  /** A missing (nil) selector object matches nothing, unlike an empty one that matches everything. */
  matchesNothing: boolean;
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export const everything = (): LabelSelector => ({ requirements: [], matchesNothing: false });
export const nothing = (): LabelSelector => ({ requirements: [], matchesNothing: true });

// --- label selector text ----------------------------------------------------------------------

type Token = { kind: 'identifier' | 'symbol' | 'end'; text: string };

const SYMBOLS = ['!=', '==', '=', '!', '(', ')', ','];
const SPECIAL = new Set(['!', '=', '(', ')', ',']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < text.length) {
    const char = text[position] ?? '';
    if (/\s/.test(char)) {
      position += 1;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => text.startsWith(candidate, position));
    if (symbol) {
      tokens.push({ kind: 'symbol', text: symbol });
      position += symbol.length;
      continue;
    }
    let end = position;
    while (end < text.length && !SPECIAL.has(text[end] ?? '') && !/\s/.test(text[end] ?? '')) end += 1;
    tokens.push({ kind: 'identifier', text: text.slice(position, end) });
    position = end;
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

/** Parses `app=web,tier in (a,b),!canary,env!=prod`; throws a 400 ApiError on bad syntax or bad keys/values. */
export function parseLabelSelector(text: string): LabelSelector {
  const tokens = tokenize(text);
  let index = 0;
  const peek = (): Token => tokens[index] ?? { kind: 'end', text: '' };
  const next = (): Token => tokens[index++] ?? { kind: 'end', text: '' };
  function fail(detail: string): never {
    throw badRequest(`unable to parse requirement: ${detail}`);
  }
  const expectIdentifier = (what: string): string => {
    const token = next();
    if (token.kind !== 'identifier') fail(`found '${token.text}', expected: ${what}`);
    return token.text;
  };

  const requirements: Requirement[] = [];
  if (peek().kind === 'end') return everything();
  for (;;) {
    let requirement: Requirement;
    if (peek().text === '!') {
      next();
      requirement = { key: expectIdentifier('identifier after \'!\''), operator: 'DoesNotExist', values: [] };
    } else {
      const key = expectIdentifier('identifier');
      const operatorToken = peek();
      if (operatorToken.kind === 'end' || operatorToken.text === ',') {
        requirement = { key, operator: 'Exists', values: [] };
      } else {
        next();
        const operator = operatorOf(operatorToken);
        if (!operator) fail(`found '${operatorToken.text}', expected: '=', '!=', '==', 'in', notin'`);
        if (operator === 'In' || operator === 'NotIn') {
          const open = next();
          if (open.text !== '(') fail(`found '${open.text}', expected: '('`);
          const values: string[] = [];
          if (peek().text === ')') next();
          else {
            for (;;) {
              const value = peek();
              if (value.kind === 'identifier') values.push(next().text);
              else if (value.text === ',' || value.text === ')') values.push('');
              else fail(`found '${value.text}', expected: ',', ')' or identifier`);
              const after = next();
              if (after.text === ')') break;
              if (after.text !== ',') fail(`found '${after.text}', expected: ',' or ')'`);
            }
          }
          requirement = { key, operator, values };
        } else {
          const value = peek();
          // `key=` (nothing after the operator) means "the label is set to the empty string".
          requirement = { key, operator, values: [value.kind === 'identifier' ? next().text : ''] };
        }
      }
    }
    checkRequirement(requirement, fail);
    requirements.push(requirement);
    const separator = next();
    if (separator.kind === 'end') break;
    if (separator.text !== ',') fail(`found '${separator.text}', expected: ',' or 'end of string'`);
  }
  return { requirements, matchesNothing: false };
}

function operatorOf(token: Token): LabelOperator | undefined {
  switch (token.text) {
    case '=': return 'Equals';
    case '==': return 'DoubleEquals';
    case '!=': return 'NotEquals';
    case 'in': return token.kind === 'identifier' ? 'In' : undefined;
    case 'notin': return token.kind === 'identifier' ? 'NotIn' : undefined;
    default: return undefined;
  }
}

function checkRequirement(requirement: Requirement, fail: (detail: string) => never): void {
  const keyErrors = isQualifiedName(requirement.key);
  if (keyErrors.length > 0) fail(`key: Invalid value: ${JSON.stringify(requirement.key)}: ${keyErrors.join('; ')}`);
  if ((requirement.operator === 'In' || requirement.operator === 'NotIn') && requirement.values.length === 0) {
    fail("for 'in', 'notin' operators, values set can't be empty");
  }
  for (const value of requirement.values) {
    const valueErrors = isValidLabelValue(value);
    if (valueErrors.length > 0) fail(`values[0]: Invalid value: ${JSON.stringify(value)}: ${valueErrors.join('; ')}`);
  }
}

/** metav1.LabelSelectorAsSelector: undefined matches nothing; `{}` matches everything. Invalid operators throw 400. */
export function labelSelectorFromObject(selector: LabelSelectorObject | undefined): LabelSelector {
  if (selector === undefined || selector === null) return nothing();
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ key, operator: 'Equals', values: [value] });
  }
  for (const expression of selector.matchExpressions ?? []) {
    const values = [...(expression.values ?? [])];
    switch (expression.operator) {
      case 'In': case 'NotIn':
        if (values.length === 0) throw badRequest(`${JSON.stringify(expression.operator)} requires values`);
        requirements.push({ key: expression.key, operator: expression.operator, values });
        break;
      case 'Exists': case 'DoesNotExist':
        requirements.push({ key: expression.key, operator: expression.operator, values: [] });
        break;
      default:
        throw badRequest(`${JSON.stringify(expression.operator)} is not a valid label selector operator`);
    }
  }
  return { requirements, matchesNothing: false };
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  if (selector.matchesNothing) return false;
  const set = labels ?? {};
  return selector.requirements.every((requirement) => {
    const present = Object.hasOwn(set, requirement.key);
    const value = present ? set[requirement.key] : undefined;
    switch (requirement.operator) {
      case 'Exists': return present;
      case 'DoesNotExist': return !present;
      case 'Equals': case 'DoubleEquals': case 'In': return present && requirement.values.includes(value ?? '');
      case 'NotEquals': case 'NotIn': return !present || !requirement.values.includes(value ?? '');
    }
  });
}

export const isEmptySelector = (selector: LabelSelector): boolean => !selector.matchesNothing && selector.requirements.length === 0;

/** Kubernetes' Selector.String(): requirements sorted by key, e.g. `app=web,tier in (a,b)`. */
export function selectorToString(selector: LabelSelector): string {
  return [...selector.requirements]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((requirement) => {
      const values = [...requirement.values].sort();
      switch (requirement.operator) {
        case 'Exists': return requirement.key;
        case 'DoesNotExist': return `!${requirement.key}`;
        case 'Equals': return `${requirement.key}=${values[0] ?? ''}`;
        case 'DoubleEquals': return `${requirement.key}==${values[0] ?? ''}`;
        case 'NotEquals': return `${requirement.key}!=${values[0] ?? ''}`;
        case 'In': return `${requirement.key} in (${values.join(',')})`;
        case 'NotIn': return `${requirement.key} notin (${values.join(',')})`;
      }
    })
    .join(',');
}

// --- field selectors --------------------------------------------------------------------------

export interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
}

const FIELD_OPERATORS = ['!=', '==', '='] as const;

/** fields.ParseSelector: `metadata.name=x,status.phase!=Running`; `\,` `\=` `\\` escape. */
export function parseFieldSelector(text: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  for (const term of splitUnescaped(text, ',')) {
    if (term === '') continue;
    const split = splitTerm(term);
    if (!split) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = unescape(split.field);
    const value = unescape(split.value);
    if (field === undefined || value === undefined) throw badRequest(`invalid selector: '${text}'; invalid escape sequence in '${term}'`);
    requirements.push({ field, operator: split.operator, value });
  }
  return { requirements };
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let position = 0; position < text.length; position += 1) {
    if (text[position] === '\\') position += 1;
    else if (text[position] === separator) {
      parts.push(text.slice(start, position));
      start = position + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function splitTerm(term: string): { field: string; operator: FieldRequirement['operator']; value: string } | undefined {
  for (let position = 0; position < term.length; position += 1) {
    if (term[position] === '\\') {
      position += 1;
      continue;
    }
    const operator = FIELD_OPERATORS.find((candidate) => term.startsWith(candidate, position));
    if (operator) return { field: term.slice(0, position), operator, value: term.slice(position + operator.length) };
  }
  return undefined;
}

function unescape(text: string): string | undefined {
  let result = '';
  for (let position = 0; position < text.length; position += 1) {
    const char = text[position] ?? '';
    if (char !== '\\') {
      result += char;
      continue;
    }
    const escaped = text[position + 1];
    if (escaped !== '\\' && escaped !== ',' && escaped !== '=') return undefined;
    result += escaped;
    position += 1;
  }
  return result;
}

/** Reads a dotted path; anything missing or not a scalar reads as "" as in Kubernetes' field sets. */
export function fieldValue(object: KubeObject, path: string): string {
  let current: unknown = object;
  for (const segment of path.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, segment)) return '';
    current = current[segment];
  }
  return typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean' ? String(current) : '';
}

export function matchesFields(selector: FieldSelector, object: KubeObject): boolean {
  return selector.requirements.every((requirement) => {
    const equal = fieldValue(object, requirement.field) === requirement.value;
    return requirement.operator === '!=' ? !equal : equal;
  });
}

export const fieldSelectorFields = (selector: FieldSelector): string[] => [...new Set(selector.requirements.map((r) => r.field))];
