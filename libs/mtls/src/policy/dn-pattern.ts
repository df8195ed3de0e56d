import type { DnFormat } from '../identity/client-identity.interface';
import type { ClientCertPolicy } from './client-cert-policy';
import { JavaRegexError, javaFullMatchRegExp } from './java-regex';

/** The form identities without a `dnFormat` are in. */
const DEFAULT_FORMAT: DnFormat = 'rfc4514';

/**
 * A DN regex as a policy was given it, matched the way the application's
 * `dnFormat` says:
 * - a RegExp is a JavaScript regex that searches the DN (`test`), whatever the form;
 * - a string, under `rfc4514`, is the source of such a RegExp (as it always was);
 *   under `jdk`, a Java regex that must match the WHOLE DN, as the article's
 *   filter (`Pattern.compile(re).matcher(dn).matches()`).
 *
 * Both readings of a string are tried when the pattern is made; a string that
 * is a regex in neither is refused there (Java syntax that JavaScript cannot
 * match exactly counts as a Java regex: it is refused at startup under `jdk`,
 * naming the construct). Whether the reading the application needs works is
 * checked at startup ({@link checkPolicyDnPatterns}).
 */
export class DnPattern {
  private readonly js?: RegExp;
  private readonly java?: RegExp;
  private readonly problems: Partial<Record<DnFormat, string>> = {};

  constructor(
    readonly pattern: RegExp | string,
    where: string,
  ) {
    if (pattern instanceof RegExp) {
      if (pattern.global || pattern.sticky) {
        throw new TypeError(`${where}: ${pattern} has the ${pattern.global ? 'g' : 'y'} flag, which keeps state between matches; remove it`);
      }
      this.js = pattern;
      this.java = pattern;
      return;
    }
    if (typeof pattern !== 'string') throw new TypeError(`${where}: expected a RegExp or a string, got ${typeof pattern}`);
    try {
      this.js = new RegExp(pattern);
    } catch (err) {
      this.problems.rfc4514 = `"${pattern}" is not a regular expression: ${(err as Error).message}`;
    }
    let validJava = true;
    try {
      this.java = javaFullMatchRegExp(pattern);
    } catch (err) {
      validJava = err instanceof JavaRegexError && err.kind === 'unsupported';
      this.problems.jdk = `the Java regex "${pattern}" cannot be used (dnFormat jdk): ${(err as Error).message}`;
    }
    if (this.problems.rfc4514 && !validJava) throw new TypeError(`${where}: ${this.problems.rfc4514}`);
  }

  /** Whether the DN (written in `format`) matches. Throws when the pattern cannot be read in that form (startup refuses that first). */
  test(dn: string, format: DnFormat = DEFAULT_FORMAT): boolean {
    const re = format === 'jdk' ? this.java : this.js;
    if (!re) throw new TypeError(this.problems[format]);
    return re.test(dn);
  }

  /** Why the pattern cannot be read in `format`, or undefined when it can. */
  problem(format: DnFormat): string | undefined {
    return this.problems[format];
  }

  /** `matches /^CN=api,/`, or for a string under `jdk`: `matches the Java regex "^CN=api, .*" (the whole DN)`. */
  describe(format: DnFormat = DEFAULT_FORMAT): string {
    if (this.pattern instanceof RegExp) return `matches ${this.pattern}`;
    if (format === 'jdk') return `matches the Java regex "${this.pattern}" (the whole DN)`;
    return this.js ? `matches ${this.js}` : `matches /${this.pattern}/`;
  }
}

/** The DN patterns inside each policy nest-mtls made (a rule, anyOf, allOf carry their parts'). */
const patternsOf = new WeakMap<ClientCertPolicy, readonly DnPattern[]>();

/** Remembers the DN patterns a policy holds, so startup can check them against `dnFormat`. */
export function withDnPatterns(policy: ClientCertPolicy, patterns: readonly DnPattern[]): ClientCertPolicy {
  if (patterns.length > 0) patternsOf.set(policy, patterns);
  return policy;
}

/** The DN patterns a policy holds (none for a user's own function). */
export function dnPatternsOf(policy: ClientCertPolicy): readonly DnPattern[] {
  return patternsOf.get(policy) ?? [];
}

/**
 * Throws a TypeError (`where: ...`) when a DN regex of the policy cannot be
 * read in the application's `dnFormat`: under `jdk`, a string with Java
 * syntax JavaScript cannot match exactly (named), or that is no Java regex;
 * under `rfc4514`, a string that is no JavaScript regex.
 */
export function checkPolicyDnPatterns(policy: ClientCertPolicy, format: DnFormat, where: string): void {
  for (const pattern of dnPatternsOf(policy)) {
    const problem = pattern.problem(format);
    if (problem) throw new TypeError(`${where}: ${problem}`);
  }
}
