/** Resolves with the error `p` rejects with; fails the test if it resolves instead. */
export async function errorOf(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}
