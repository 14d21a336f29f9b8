// The gateway's API as the consoles call it: a client generated from /openapi.json
// (openapi-typescript types, openapi-fetch calls), so a changed API fails the build.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/api";

export type Schemas = components["schemas"];
export type Session = Schemas["Session"];
export type Participant = Schemas["Participant"];
export type Offer = Schemas["Offer"];

export type Api = ReturnType<typeof createClient<paths>>;

/** A client that signs its requests with the token it is given now, and gives every
 * POST and PUT an idempotency key of its own (a click is one request). */
export function apiClient(token: () => string | null): Api {
  const api = createClient<paths>({ baseUrl: location.origin });
  const signing: Middleware = {
    onRequest({ request }) {
      const bearer = token();
      if (bearer) request.headers.set("Authorization", `Bearer ${bearer}`);
      if (request.method === "POST" || request.method === "PUT") {
        request.headers.set("Idempotency-Key", crypto.randomUUID());
      }
      return request;
    },
  };
  api.use(signing);
  return api;
}

/** What to tell a person of a refusal: the API's own message (CONTRACT.md's error body). */
export function refusal(error: unknown, response?: Response): string {
  const body = error as { error?: { message?: string } } | undefined;
  if (body?.error?.message) return body.error.message;
  if (response?.status === 503) return "The service is busy or restarting; try again shortly.";
  return `The service answered ${response?.status ?? "nothing"}; try again.`;
}

/** A refusal shown in its place on the page. */
export function say(where: HTMLElement, outcome: { error?: unknown; response: Response }): void {
  where.textContent = refusal(outcome.error, outcome.response);
  where.hidden = false;
}

/** S1: a session number as people read it, `123 456 789`. */
export function displayNumber(number: string | null | undefined): string {
  const digits = (number ?? "").replace(/\D/g, "");
  return digits.match(/.{1,3}/g)?.join(" ") ?? "";
}

export type LiveEvent = {
  type: string;
  stream_version: number;
  data: Record<string, unknown>;
};

/** The session's events as they happen (the gateway's server-sent events, read with fetch so
 * the token goes in a header); reconnects after a lost connection from the last event seen,
 * and ends with the session, or when the caller may no longer follow it. */
export async function follow(
  sessionId: string,
  token: string,
  onEvent: (event: LiveEvent) => void,
): Promise<void> {
  let last = -1;
  for (;;) {
    try {
      const response = await fetch(`/v1/sessions/${sessionId}/live?after=${last}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (response.status >= 400 && response.status < 500) return; // not ours (any more)
      if (response.ok && response.body) {
        for await (const event of serverSentEvents(response.body)) {
          last = event.stream_version;
          onEvent(event);
          if (event.type === "SessionEnded") return;
        }
      }
    } catch {
      // the connection went: again in a second, from the last event seen
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<LiveEvent> {
  const reader = body.getReader();
  const text = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += text.decode(value, { stream: true });
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n");
      if (data) yield JSON.parse(data) as LiveEvent;
    }
  }
}

/** An element of the page by its id (the pages are written with every id these scripts use). */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** A new element with text and attributes: the pages build their lists with it. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text = "",
  attributes: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  made.textContent = text;
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  return made;
}

/** Who is who, from the events that name people (an event may name someone before the
 * session is read again). */
export function learnNames(event: LiveEvent, names: Map<string, string>): void {
  const d = event.data;
  if (event.type === "CustomerJoined") names.set(String(d.participant_id), String(d.name));
  if (event.type === "AssistantJoined") names.set(String(d.csr_id), String(d.name));
  if (event.type === "AgentAssigned") names.set(String(d.agent_id), String(d.agent_name));
}

/** Why a session ended, in words. */
export function endReason(event: LiveEvent): string {
  return String(event.data.reason).replaceAll("_", " ");
}

/** What a customer or a csr reads of a session event, or null for what needs no words. */
export function told(event: LiveEvent, names: Map<string, string>): string | null {
  const d = event.data;
  const name = (id: unknown) => names.get(String(id)) ?? String(id);
  switch (event.type) {
    case "CustomerJoined":
      return `${d.name} joined`;
    case "AssistantJoined":
      return d.via === "supervisor"
        ? `${d.name}, a supervisor, joined`
        : `${d.name} joined to assist`;
    case "ParticipantLeft":
      return `${name(d.participant_id)} left (${String(d.reason).replaceAll("_", " ")})`;
    case "ActiveCustomerSelected":
      return `${name(d.participant_id)} is now the active customer`;
    case "ControlTransferred":
      return d.taken_over_by // R17
        ? `${name(d.to_csr)} took control over from ${name(d.from_csr)}`
        : `control passed from ${name(d.from_csr)} to ${name(d.to_csr)}`;
    case "HandedToQueue":
    case "HandedToAgents":
      return "the session was handed to WebACD: waiting for an agent";
    case "AgentAssigned":
      return `${d.agent_name ?? d.agent_id} took the session`;
    case "SessionEnded":
      return `the session ended (${endReason(event)})`;
    default:
      return null;
  }
}

/** Where a participant's chat and sharing go: the media relay, as a start, a join or an
 * accept answered (`relay_url`, `participant_token`). */
export type RelayAddress = { relay_url: string; participant_token: string };

export type Notice = { type: string; [field: string]: unknown };

/** How the relay closes a channel for good: the participant left or was handed off (4000), the
 * session ended (4001), no longer a participant (4003). */
const FINAL_CLOSES = new Set([4000, 4001, 4003]);
const RETRY_FIRST_MS = 250;
const RETRY_MOST_MS = 5000;
const TRIES_UNOPENED = 10; // about 30 s of a relay that never lets this participant in

/** The participant's WebSocket to the relay (M1): chat out, the relay's notices in. A channel
 * that closes for any other reason (a relay restarted, a network that blinked, a join the
 * relay had not heard of yet) is opened again, after 0.25 s doubling to 5 s; after ten tries
 * in a row that never opened, the page is told (an `error` notice). */
export class RelayChannel {
  private socket: WebSocket | null = null;
  private delay = RETRY_FIRST_MS;
  private unopened = 0;

  constructor(
    private readonly address: RelayAddress,
    private readonly onNotice: (notice: Notice) => void,
    private readonly onFrame: (frame: ArrayBuffer) => void = () => {},
  ) {}

  open(): void {
    const url = `${this.address.relay_url}?token=${encodeURIComponent(this.address.participant_token)}`;
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      this.delay = RETRY_FIRST_MS;
      this.unopened = 0;
    });
    socket.addEventListener("message", (message) => {
      if (typeof message.data === "string") this.onNotice(JSON.parse(message.data) as Notice);
      else this.onFrame(message.data as ArrayBuffer);
    });
    socket.addEventListener("close", (event) => {
      if (FINAL_CLOSES.has(event.code)) return;
      this.unopened = opened ? 0 : this.unopened + 1;
      if (this.unopened >= TRIES_UNOPENED) {
        this.onNotice({ type: "error", message: "the live channel could not be opened again" });
        return;
      }
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, RETRY_MOST_MS);
    });
  }

  send(request: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(request));
  }

  /** A frame of an activity (M1), if the channel is open now. */
  sendFrame(frame: Uint8Array): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame);
  }
}

/** The chat of a page: the messages as they come (names for ids), and a form to say more,
 * open only while the session's chat runs. */
export class ChatPanel {
  constructor(
    channel: RelayChannel,
    private readonly list: HTMLElement,
    private readonly form: HTMLFormElement,
    private readonly names: Map<string, string>,
  ) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = form.elements.namedItem("text") as HTMLInputElement;
      if (!input.value.trim()) return;
      channel.send({ type: "chat", text: input.value });
      input.value = "";
    });
  }

  heard(notice: Notice): void {
    if (notice.type !== "chat") return;
    const who = this.names.get(String(notice.from)) ?? String(notice.from);
    this.list.append(element("li", `${who}: ${String(notice.text)}`));
  }

  running(chat: boolean): void {
    this.form.hidden = !chat;
  }
}
