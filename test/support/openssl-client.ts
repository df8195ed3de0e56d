import { spawn } from 'node:child_process';

/**
 * Drives `openssl s_client` like a person at a terminal: connects, then sends
 * each step's input after a pause (s_client reads commands such as `R` for
 * renegotiate from stdin), and returns everything it printed when it exits
 * or after the last step.
 */
export function sClient(args: string[], steps: string[], pauseMs = 700): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('latin1')));
    child.stdin.on('error', () => undefined);
    const timers: NodeJS.Timeout[] = [];
    steps.forEach((input, i) => timers.push(setTimeout(() => child.stdin.writable && child.stdin.write(input), pauseMs * (i + 1))));
    timers.push(setTimeout(() => child.stdin.end(), pauseMs * (steps.length + 2)));
    timers.push(setTimeout(() => child.kill('SIGKILL'), pauseMs * (steps.length + 2) + 10000));
    child.on('exit', (code) => {
      timers.forEach(clearTimeout);
      resolve({ code, output });
    });
  });
}
