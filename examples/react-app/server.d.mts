/** The example backend's types (server.mjs runs with plain node, so it is JavaScript). */
export interface ExampleServerOptions {
  port?: number;
  host?: string;
  /** Herald's AUTH_SECRET: user tokens are signed with it. */
  authSecret: string;
  /** Herald's origin, told to the page; read on every request. */
  heraldUrl: string;
}

export interface ExampleServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer>;
