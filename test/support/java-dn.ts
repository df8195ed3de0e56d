import { execFileSync } from 'node:child_process';
import type { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { JVM_FLAGS, JVM_LAUNCHER_FLAGS } from './jvm-flags';
import type { TempDir } from './temp-dir';

/** What Java said: per certificate its DNs (or why it refused the certificate), per regex its verdicts. */
export interface JavaAnswers {
  /** `X509Certificate.getSubjectDN().getName()` and `getIssuerDN().getName()`, or Java's exception. */
  certificates: Array<{ subject: string; issuer: string } | { error: string }>;
  /** Per regex: `Pattern.compile` failed (`bad`, with Java's description), or a `matches()` verdict per subject then per text. */
  regexes: Array<{ bad: string } | { subjects: (boolean | undefined)[]; texts: boolean[] }>;
}

/** Strings cross to and from Java as hex of their UTF-16 code units: no console encoding loses anything. */
const toHex16 = (s: string) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i).toString(16).padStart(4, '0')).join('');
const fromHex16 = (h: string) => {
  const units: number[] = [];
  for (let i = 0; i < h.length; i += 4) units.push(parseInt(h.slice(i, i + 4), 16));
  return String.fromCharCode(...units);
};

/**
 * The Java side of the `jdk` DN tests: test/support/java/JdkDn.java, compiled
 * with `javac` once (per test file), run once for a whole corpus. Throws when
 * javac or java fails (callers check with requireTool first).
 */
export class JavaDnOracle {
  private runs = 0;

  private constructor(
    private readonly dir: TempDir,
    private readonly classes: string,
  ) {}

  static compile(dir: TempDir): JavaDnOracle {
    const classes = dir.path('java-classes');
    try {
      execFileSync('javac', [...JVM_LAUNCHER_FLAGS, '-encoding', 'UTF-8', '-d', classes, join(__dirname, 'java', 'JdkDn.java')], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const reason = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
      throw new Error(`cannot compile test/support/java/JdkDn.java with javac: ${reason}`, { cause: err });
    }
    return new JavaDnOracle(dir, classes);
  }

  /** Asks Java about every certificate, and every regex over every subject and text. */
  run(input: { certificates: X509Certificate[]; texts?: string[]; regexes?: string[] }): JavaAnswers {
    const lines = [
      ...input.certificates.map((cert) => `cert ${cert.raw.toString('base64')}`),
      ...(input.texts ?? []).map((text) => `text ${toHex16(text)}`),
      ...(input.regexes ?? []).map((regex) => `regex ${toHex16(regex)}`),
    ];
    const file = this.dir.write(`java-input-${++this.runs}.txt`, `${lines.join('\n')}\n`);
    const out = execFileSync('java', [...JVM_FLAGS, '-cp', this.classes, 'JdkDn', file], { maxBuffer: 64 * 1024 * 1024 }).toString('ascii');
    const answers: JavaAnswers = { certificates: [], regexes: [] };
    for (const line of out.split('\n').filter(Boolean)) {
      const [kind, index, ...rest] = line.split(' ');
      const n = Number(index);
      if (kind === 'dn') answers.certificates[n] = { subject: fromHex16(rest[0]), issuer: fromHex16(rest[1] ?? '') };
      else if (kind === 'err') answers.certificates[n] = { error: rest.join(' ') };
      else if (kind === 'regex' && rest[0] === 'bad') answers.regexes[n] = { bad: rest.slice(1).join(' ') };
      else if (kind === 'regex') {
        const [subjects, texts] = rest[1].split(':');
        answers.regexes[n] = { subjects: Array.from(subjects, (b) => (b === '-' ? undefined : b === '1')), texts: Array.from(texts, (b) => b === '1') };
      } else throw new Error(`unexpected line from JdkDn: ${line}`);
    }
    return answers;
  }
}
