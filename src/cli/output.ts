/**
 * Buffered synchronous output to stdout for commands that print a line per frame: large writes,
 * no per-line syscalls, and a reader that goes away (`bondscope frames big.pcap | head`) ends
 * the command quietly instead of with a stack trace.
 */
import { writeSync } from 'node:fs';

/** Thrown when stdout's reader has gone; main() exits quietly on it. */
export class OutputClosed extends Error {
  override name = 'OutputClosed';
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class LineWriter {
  private chunks: string[] = [];
  private size = 0;

  constructor(
    private readonly fd = 1,
    private readonly limit = 1 << 16,
  ) {}

  line(text: string): void {
    this.chunks.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= this.limit) this.flush();
  }

  flush(): void {
    if (this.size === 0) return;
    const data = Buffer.from(this.chunks.join(''), 'utf8');
    this.chunks = [];
    this.size = 0;
    let done = 0;
    while (done < data.length) {
      try {
        done += writeSync(this.fd, data, done, data.length - done);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(sleeper, 0, 0, 2);
          continue;
        }
        if (code === 'EPIPE') throw new OutputClosed('stdout closed');
        throw err;
      }
    }
  }
}
