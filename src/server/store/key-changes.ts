/** The listeners of KeyStore.onKeyChange, shared by both stores. */
export class KeyChangeListeners {
  readonly #listeners: ((keyName: string) => void)[] = [];

  add(listener: (keyName: string) => void): void {
    this.#listeners.push(listener);
  }

  /** After a change of `keyName` committed; a throwing listener does not stop the others. */
  emit(keyName: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(keyName);
      } catch {
        // a cache that cannot drop still expires on its own bound
      }
    }
  }

  /** `result`, once it settled, having told the listeners when it succeeded. */
  async after<T>(keyName: string, result: Promise<T>): Promise<T> {
    const value = await result;
    this.emit(keyName);
    return value;
  }
}
