// Runs the pophook command in-process with captured streams and a service runner that only records
// that it was called.
import { PassThrough, Writable } from 'node:stream';
import { runCli } from '../../src/cli.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const stdout = new Capture();
  const stderr = new Capture();
  let started = false;
  const code = await runCli(
    argv,
    { stdout, stderr, stdin: new PassThrough(), env, isTTY: false, ...(cwd ? { cwd } : {}) },
    async () => {
      started = true;
      return 0;
    },
  );
  return { code, stdout: stdout.text, stderr: stderr.text, started };
}
