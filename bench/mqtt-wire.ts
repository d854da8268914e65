// A minimal MQTT 3.1.1 publisher for the load generator: CONNECT with a login, PUBLISH at
// QoS 0 or 1, PINGREQ, DISCONNECT, over a plain TCP socket. mqtt.js costs the load
// generator more CPU per message than the gateway spends on the reading, and the bench
// shares two cores between publishers, broker, gateway and InfluxDB; writing pre-encoded
// packets many at a time measures the gateway instead of the load generator. The broker
// sees ordinary MQTT: one connection and one login per client, every packet complete.
import { connect, type Socket } from 'node:net';

/** MQTT's variable-length integer (the fixed header's remaining length). */
export function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, ...remainingLength(body.length)]), body]);
}

export function connectPacket(clientId: string, username: string, password: string, keepaliveS: number): Buffer {
  const header = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, keepaliveS >> 8, keepaliveS & 0xff]); // "MQTT", level 4, user+password+clean
  return packet(0x10, Buffer.concat([header, str(clientId), str(username), str(password)]));
}

export function publishPacket(topic: string, payload: string, qos: 0 | 1, messageId = 0): Buffer {
  const id = qos === 1 ? Buffer.from([messageId >> 8, messageId & 0xff]) : Buffer.alloc(0);
  return packet(qos === 1 ? 0x32 : 0x30, Buffer.concat([str(topic), id, Buffer.from(payload, 'utf8')]));
}

const PINGREQ = Buffer.from([0xc0, 0]);
const DISCONNECT = Buffer.from([0xe0, 0]);

/** One MQTT connection that writes pre-encoded packets and counts the broker's PUBACKs. */
export class WireClient {
  pubacks = 0;
  private buffered = Buffer.alloc(0);
  private ping: NodeJS.Timeout | undefined;
  private constructor(private readonly socket: Socket) {}

  static async connect(url: string, clientId: string, username: string, password: string): Promise<WireClient> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port || 1883), hostname);
    socket.setNoDelay(true);
    const client = new WireClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('connect', () => socket.write(connectPacket(clientId, username, password, 60)));
      client.onPacket = (type, body) => {
        if (type !== 2) return reject(new Error(`expected CONNACK, got packet type ${type}`));
        if (body[1] !== 0) return reject(new Error(`${username}: CONNACK return code ${body[1]}`));
        socket.off('error', reject);
        resolve();
      };
      socket.on('data', (d: Buffer) => client.read(d));
    });
    socket.on('error', () => undefined); // a refused publish closes the connection; the count shows it
    client.onPacket = (type) => {
      if (type === 4) client.pubacks++;
    };
    client.ping = setInterval(() => socket.write(PINGREQ), 30_000);
    return client;
  }

  private onPacket: (type: number, body: Buffer) => void = () => undefined;

  /** Splits the incoming stream into packets (type, body). */
  private read(data: Buffer): void {
    let buf = this.buffered.length ? Buffer.concat([this.buffered, data]) : data;
    for (;;) {
      if (buf.length < 2) break;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < buf.length && i < 5; i++) {
        len += (buf[i]! & 0x7f) * mul;
        mul *= 128;
        if ((buf[i]! & 0x80) === 0) break;
      }
      if (i >= buf.length || buf.length < i + 1 + len) break;
      this.onPacket(buf[0]! >> 4, buf.subarray(i + 1, i + 1 + len));
      buf = buf.subarray(i + 1 + len);
    }
    this.buffered = Buffer.from(buf);
  }

  /** Writes packets in one socket write; resolves when the socket takes more. */
  write(packets: Buffer): Promise<void> | undefined {
    if (this.socket.write(packets)) return undefined;
    return new Promise((resolve) => this.socket.once('drain', resolve));
  }

  async end(): Promise<void> {
    clearInterval(this.ping);
    await new Promise<void>((resolve) => this.socket.end(DISCONNECT, resolve));
  }
}
