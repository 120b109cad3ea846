import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createFactorySimulator, type FactorySimulator, type FactorySimulatorOptions } from './app';

export interface StartFactorySimulatorOptions extends FactorySimulatorOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
}

export interface RunningFactorySimulator {
  url: string;
  port: number;
  simulator: FactorySimulator;
  /** TCP connections accepted so far; shows whether clients reuse their connections. */
  connectionsAccepted(): number;
  /** Stops listening and closes every connection, idle keep-alive ones included. */
  close(): Promise<void>;
}

export async function startFactorySimulator(options: StartFactorySimulatorOptions): Promise<RunningFactorySimulator> {
  const { port = 0, host = '127.0.0.1', ...simulatorOptions } = options;
  // No publicUrl default: report URLs are production's https://<Host hostname>/api/support/... form.
  const simulator = createFactorySimulator(simulatorOptions);
  const server = http.createServer(simulator.app);
  const sockets = new Set<Socket>();
  let connectionsAccepted = 0;
  server.on('connection', (socket) => {
    connectionsAccepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url,
    port: address.port,
    simulator,
    connectionsAccepted: () => connectionsAccepted,
    close: () =>
      new Promise<void>((resolve, reject) => {
        simulator.dispose();
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
  };
}
