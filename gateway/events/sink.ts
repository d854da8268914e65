// Where the event publisher's messages go: the embedded broker (through its thread) or an
// external broker (an MQTT connection of the gateway's own). Both publish at QoS 1.

export interface PublishOptions {
  retain: boolean;
}

export interface BusSink {
  /** Resolves once the broker has the message (QoS 1: acknowledged); rejects if it cannot take it now. */
  publish(topic: string, payload: Buffer, opts: PublishOptions): Promise<void>;
  /** Whether messages can go now. */
  connected(): boolean;
  /** Called each time the sink (re)connects, or its broker restarted with an empty memory. */
  onConnect(fn: () => void): void;
  /** The topics under a filter that hold a retained message now (to clear what closed while away); [] when it cannot tell. */
  retainedTopics(filter: string): Promise<string[]>;
  close(): Promise<void>;
}
