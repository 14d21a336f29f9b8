// The shared screen (S6, M1, M2): the sharer's screen (the browser's getDisplayMedia) goes
// through the relay as JPEG pictures in share frames, two a second; every other participant of
// the session sees the latest one. The controller may share, and so may the active customer
// (M2); the relay refuses anyone else, and stops the frames when the activity ends (M3).
import type { Notice, RelayChannel } from "./api";

const PICTURES_PER_SECOND = 2;
const KIND = "desktop_sharing";

/** A frame as the relay reads it: u16 big-endian header length, the JSON header, the payload. */
export function encodeFrame(header: Record<string, unknown>, payload: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const frame = new Uint8Array(2 + head.length + payload.length);
  new DataView(frame.buffer).setUint16(0, head.length);
  frame.set(head, 2);
  frame.set(payload, 2 + head.length);
  return frame;
}

export function parseFrame(data: ArrayBuffer): {
  header: Record<string, unknown>;
  payload: Uint8Array<ArrayBuffer>;
} {
  const length = new DataView(data).getUint16(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(data, 2, length)));
  return { header, payload: new Uint8Array(data, 2 + length) };
}

export type ScreenSlots = {
  share: HTMLButtonElement;
  stop: HTMLButtonElement;
  view: HTMLElement; // a figure with an img and a figcaption
};

export class ScreenPanel {
  private stream: MediaStream | null = null;
  private activity: string | null = null; // the sharing this page sends
  private timer: number | undefined;
  private viewing: string | null = null; // the sharing this page shows
  private picture: string | null = null; // its object URL

  constructor(
    private readonly channel: RelayChannel,
    private readonly me: () => string,
    private readonly names: Map<string, string>,
    private readonly slots: ScreenSlots,
  ) {
    slots.share.addEventListener("click", () => void this.begin());
    slots.stop.addEventListener("click", () => {
      this.channel.send({ type: "stop", activity_id: this.activity, ref: crypto.randomUUID() });
    });
  }

  /** Whether this participant may share now, and whether anybody shares. */
  may(share: boolean, anybodyShares: boolean): void {
    this.slots.share.hidden = !share || anybodyShares || this.stream !== null;
    this.slots.stop.hidden = this.activity === null;
  }

  heard(notice: Notice): void {
    if (notice.type === "activity_started" && notice.kind === KIND) {
      if (notice.started_by === this.me() && this.stream && !this.activity) {
        this.activity = String(notice.activity_id);
        this.slots.stop.hidden = false;
        this.timer = window.setInterval(() => void this.sendPicture(), 1000 / PICTURES_PER_SECOND);
      }
    } else if (notice.type === "activity_ended") {
      if (notice.activity_id === this.activity) this.end();
      if (notice.activity_id === this.viewing) this.hide();
    } else if (notice.type === "error" && this.stream && !this.activity) {
      this.end(); // the relay refused the start
    }
  }

  frame(data: ArrayBuffer): void {
    const { header, payload } = parseFrame(data);
    if (header.kind !== "share") return;
    const img = this.slots.view.querySelector("img");
    const caption = this.slots.view.querySelector("figcaption");
    if (!img || !caption) return;
    if (this.picture) URL.revokeObjectURL(this.picture);
    this.picture = URL.createObjectURL(new Blob([payload], { type: "image/jpeg" }));
    img.src = this.picture;
    const who = String(header.from ?? "");
    caption.textContent = `${this.names.get(who) ?? who} shares a screen`;
    this.viewing = String(header.activity_id);
    this.slots.view.hidden = false;
  }

  private async begin(): Promise<void> {
    try {
      this.stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
    } catch {
      return; // the person chose not to share
    }
    this.slots.share.hidden = true;
    this.stream.getVideoTracks()[0]?.addEventListener("ended", () => {
      if (this.activity) this.slots.stop.click(); // stopped from the browser's own bar
    });
    this.channel.send({ type: "start", kind: KIND, ref: crypto.randomUUID() });
  }

  private video: HTMLVideoElement | null = null;

  private async sendPicture(): Promise<void> {
    if (!this.stream || !this.activity) return;
    if (!this.video) {
      this.video = document.createElement("video");
      this.video.muted = true;
      this.video.srcObject = this.stream;
      await this.video.play();
    }
    const canvas = document.createElement("canvas");
    canvas.width = this.video.videoWidth;
    canvas.height = this.video.videoHeight;
    if (!canvas.width || !canvas.height) return;
    canvas.getContext("2d")?.drawImage(this.video, 0, 0);
    const jpeg = await new Promise<Blob | null>((done) => canvas.toBlob(done, "image/jpeg", 0.6));
    if (!jpeg || !this.activity) return;
    const header = { kind: "share", activity_id: this.activity };
    this.channel.sendFrame(encodeFrame(header, new Uint8Array(await jpeg.arrayBuffer())));
  }

  private end(): void {
    window.clearInterval(this.timer);
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video = null;
    this.activity = null;
    this.slots.stop.hidden = true;
  }

  private hide(): void {
    this.slots.view.hidden = true;
    this.viewing = null;
  }
}
