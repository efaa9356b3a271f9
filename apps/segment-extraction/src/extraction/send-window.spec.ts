import { SendWindow } from './send-window';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('SendWindow', () => {
  it('holds the caller once the window is full, until the oldest send is done', async () => {
    const window = new SendWindow(2);
    const first = deferred();
    await window.add(first.promise);
    let released = false;
    const adding = window.add(deferred().promise).then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    first.resolve();
    await adding;
    expect(released).toBe(true);
  });

  it('throws a failed send on drain', async () => {
    const window = new SendWindow(4);
    const failing = deferred();
    await window.add(failing.promise);
    failing.reject(new Error('nope'));
    await expect(window.drain()).rejects.toThrow('nope');
  });
});
