// SDK clients a session makes on first use, one per key (a region, a host, a vault URL), so that every
// secret behind the same key shares one client and its connections; the session closes them.

export class ClientCache<Client> {
  readonly #clients = new Map<string, Client>();
  readonly #create: (key: string) => Client;

  constructor(create: (key: string) => Client) {
    this.#create = create;
  }

  /** The client for `key`, made now if this session has none yet. */
  get(key: string): Client {
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = this.#create(key);
      this.#clients.set(key, client);
    }
    return client;
  }

  /** Every client made so far, for close(). */
  all(): Client[] {
    return [...this.#clients.values()];
  }
}
