// The CSR dashboard (issue 16.2): sign in, start or assist a session, a tab per session with
// its participants, invitations, transfers, hand-off, end and leave, live from the gateway's
// updates (two consoles on one session agree without reloading); for an agent, the agent view
// (agent.ts); for a supervisor, the supervisor view (supervisor.ts). Every refusal is shown as the API words it.
import { agentView } from "./agent";
import {
  apiClient,
  byId,
  ChatPanel,
  displayNumber,
  element,
  follow,
  type LiveEvent,
  learnNames,
  type Notice,
  type RelayAddress,
  RelayChannel,
  type Session,
  say,
  told,
} from "./api";
import { ScreenPanel } from "./screen";
import { forget, kept, type Me, signIn } from "./signin";
import { supervisorView } from "./supervisor";

const MESSAGE_MOST = 345; // S9
let me: Me | null = kept();
const api = apiClient(() => me?.token ?? null);
const tabs = new Map<string, SessionTab>();

class SessionTab {
  readonly panel: HTMLElement;
  readonly tab: HTMLButtonElement;
  private readonly names = new Map<string, string>();
  private readonly relay: RelayChannel;
  private readonly chat: ChatPanel;
  private readonly screen: ScreenPanel;

  constructor(
    readonly id: string,
    address: RelayAddress,
  ) {
    const template = byId<HTMLTemplateElement>("session-panel");
    const copy = template.content.firstElementChild?.cloneNode(true);
    if (!(copy instanceof HTMLElement)) throw new Error("no session panel template");
    this.panel = copy;
    this.panel.id = `panel-${id}`;
    this.tab = element("button", "Session", {
      type: "button",
      role: "tab",
      id: `tab-${id}`,
      "aria-controls": this.panel.id,
    });
    this.panel.setAttribute("aria-labelledby", this.tab.id);
    this.tab.addEventListener("click", () => this.select());
    byId("tabs").append(this.tab);
    byId("panels").append(this.panel);
    const heard = (notice: Notice) => {
      this.chat.heard(notice);
      this.screen.heard(notice);
      if (notice.type === "error") {
        this.slot("problem").textContent = String(notice.message); // the relay's refusal
        this.slot("problem").hidden = false;
      }
    };
    this.relay = new RelayChannel(address, heard, (frame) => this.screen.frame(frame));
    this.chat = new ChatPanel(this.relay, this.slot("chat"), this.slot("say"), this.names);
    this.screen = new ScreenPanel(this.relay, () => me?.user ?? "", this.names, {
      share: this.slot("share"),
      stop: this.slot("stop-share"),
      view: this.slot("screen"),
    });
    this.relay.open();
    this.wire();
    void this.refresh();
    void follow(id, me?.token ?? "", (event) => this.heard(event));
  }

  slot<T extends HTMLElement>(name: string): T {
    const found = this.panel.querySelector<T>(`[data-slot="${name}"]`);
    if (!found) throw new Error(`no ${name} in the session panel`);
    return found;
  }

  select(): void {
    for (const other of tabs.values()) {
      other.panel.hidden = other !== this;
      other.tab.setAttribute("aria-selected", String(other === this));
    }
  }

  private path() {
    return { params: { path: { session_id: this.id } } };
  }

  private problem(outcome: { error?: unknown; response: Response }): void {
    say(this.slot("problem"), outcome);
  }

  async refresh(): Promise<void> {
    const { data } = await api.GET("/v1/sessions/{session_id}", this.path());
    if (data) this.show(data);
  }

  private heard(event: LiveEvent): void {
    learnNames(event, this.names);
    const words = told(event, this.names);
    if (words) this.slot("happened").append(element("li", words));
    if (
      event.type === "SessionEnded" ||
      (event.type === "ParticipantLeft" && event.data.participant_id === me?.user)
    ) {
      this.slot("status").textContent = event.type === "SessionEnded" ? "ended" : "you left";
      for (const form of this.panel.querySelectorAll("form, [data-slot=end], [data-slot=leave]")) {
        form.setAttribute("hidden", "");
      }
      return;
    }
    void this.refresh();
  }

  show(session: Session): void {
    for (const p of session.participants) this.names.set(p.id, p.name);
    const number = displayNumber(session.session_number);
    this.tab.textContent = `Session ${number}`;
    this.slot("number").textContent = number;
    this.slot("status").textContent = session.status;
    const controls = session.controller === me?.user;
    const controller = session.controller ? this.names.get(session.controller) : null;
    this.slot("controller").textContent = controls
      ? "You control this session."
      : controller
        ? `${controller} controls this session; you assist.`
        : "Nobody controls this session now.";
    this.slot("participants").replaceChildren(
      ...session.participants.map((p) => this.person(p, session, controls)),
    );
    const assistants = session.participants.filter((p) => p.role === "assistant");
    const to = this.slot<HTMLFormElement>("transfer").elements.namedItem("to") as HTMLSelectElement;
    to.replaceChildren(...assistants.map((p) => element("option", p.name, { value: p.id })));
    for (const name of ["transfer", "handoff", "invite", "end"]) {
      this.slot(name).hidden = !controls || (name === "transfer" && assistants.length === 0);
    }
    if (!me?.roles.includes("agent")) this.slot("handoff").hidden = true; // S9: agents only
    this.slot("leave").hidden = controls;
    const chatting = session.activities.some((a) => a.kind === "chat");
    this.chat.running(chatting);
    this.slot("start-chat").hidden = !controls || chatting;
    this.screen.may(
      controls,
      session.activities.some((a) => a.kind === "desktop_sharing"),
    );
  }

  private person(
    p: Session["participants"][number],
    session: Session,
    controls: boolean,
  ): HTMLElement {
    const active = p.id === session.active_customer ? " (active customer)" : "";
    const item = element("li", `${p.name}: ${p.role}${active}`);
    if (controls && p.role === "customer" && !active) {
      const choose = element("button", "Make active", { type: "button" });
      choose.setAttribute("aria-label", `Make active: ${p.name}`);
      choose.addEventListener("click", async () => {
        const outcome = await api.POST("/v1/sessions/{session_id}/active-customer", {
          ...this.path(),
          body: { participant_id: p.id },
        });
        if (outcome.error) this.problem(outcome);
      });
      item.append(choose);
    }
    return item;
  }

  private wire(): void {
    const invite = this.slot<HTMLFormElement>("invite");
    const channel = invite.elements.namedItem("channel") as HTMLSelectElement;
    const showTo = () => {
      this.slot("to-field").hidden = !["email", "own_email"].includes(channel.value);
    };
    channel.addEventListener("change", showTo);
    showTo();
    invite.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.invite(invite);
    });
    const handoff = this.slot<HTMLFormElement>("handoff");
    const message = handoff.elements.namedItem("message") as HTMLTextAreaElement;
    message.addEventListener("input", () => {
      this.slot("counter").textContent = `${message.value.length} / ${MESSAGE_MOST}`;
    });
    for (const radio of handoff.querySelectorAll<HTMLInputElement>("input[name=target]")) {
      radio.addEventListener("change", () => {
        this.slot("queue-field").hidden = radio.value !== "queue" || !radio.checked;
        this.slot("agents-field").hidden = radio.value !== "agents" || !radio.checked;
      });
    }
    handoff.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.handOff(handoff);
    });
    const transfer = this.slot<HTMLFormElement>("transfer");
    transfer.addEventListener("submit", async (event) => {
      event.preventDefault();
      const to = (transfer.elements.namedItem("to") as HTMLSelectElement).value;
      const outcome = await api.POST("/v1/sessions/{session_id}/control", {
        ...this.path(),
        body: { to },
      });
      if (outcome.error) this.problem(outcome);
    });
    this.slot("start-chat").addEventListener("click", () => {
      this.relay.send({ type: "start", kind: "chat", ref: crypto.randomUUID() }); // M1, M2
    });
    this.slot("end").addEventListener("click", async () => {
      const outcome = await api.POST("/v1/sessions/{session_id}/end", this.path());
      if (outcome.error) this.problem(outcome);
    });
    this.slot("leave").addEventListener("click", async () => {
      const outcome = await api.POST("/v1/sessions/{session_id}/leave", this.path());
      if (outcome.error) this.problem(outcome);
    });
  }

  private async invite(form: HTMLFormElement): Promise<void> {
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
    const channel = field("channel") as "email" | "own_email" | "website" | "instant_message";
    const role = field("role") as "customer" | "csr";
    const to = field("to");
    const body =
      ["email", "own_email"].includes(channel) && to ? { role, channel, to } : { role, channel };
    const outcome = await api.POST("/v1/sessions/{session_id}/invitations", {
      ...this.path(),
      body,
    });
    const shown = this.slot("invited");
    const invited = outcome.data;
    if (!invited) {
      this.problem(outcome);
      return;
    }
    if (invited.draft) {
      const link = element("a", "Open the invitation in your mail program", {
        href: invited.draft.mailto,
      });
      shown.replaceChildren(link);
    } else if (invited.website) {
      const steps = element("ol");
      steps.append(...invited.website.steps.map((step) => element("li", step)));
      shown.replaceChildren(element("p", "Tell the invitee:"), steps);
    } else if (invited.instant_message) {
      const text = element("pre", invited.instant_message.text);
      const copy = element("button", "Copy the message", { type: "button" });
      copy.addEventListener(
        "click",
        () => void navigator.clipboard?.writeText(text.textContent ?? ""),
      );
      shown.replaceChildren(text, copy);
    } else {
      shown.replaceChildren(
        element("p", `The invitation is on its way to ${invited.to ?? "the invitee"}.`),
      );
    }
  }

  private async handOff(form: HTMLFormElement): Promise<void> {
    const field = (name: string) =>
      (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const toQueue =
      (form.querySelector("input[name=target]:checked") as HTMLInputElement).value === "queue";
    const message = field("message") || undefined;
    const body = toQueue
      ? { queue_id: field("queue_id"), message }
      : {
          agent_ids: field("agent_ids")
            .split(",")
            .map((a) => a.trim())
            .filter(Boolean),
          message,
        };
    const outcome = await api.POST("/v1/sessions/{session_id}/handoff", { ...this.path(), body });
    if (outcome.error) this.problem(outcome);
  }
}

function open(sessionId: string, relay: RelayAddress): void {
  const known = tabs.get(sessionId);
  if (known) {
    known.select();
    return;
  }
  const tab = new SessionTab(sessionId, relay);
  tabs.set(sessionId, tab);
  tab.select();
}

function signedIn(who: Me): void {
  byId("signed-in").hidden = false;
  byId("me").textContent = `${who.name} (${who.roles.join(", ")})`;
  byId("sign-out").addEventListener("click", () => {
    forget();
    location.reload();
  });
  const problem = byId("problem");
  const helps = who.roles.includes("csr") || who.roles.includes("agent");
  byId("start").hidden = byId("assist").hidden = !helps; // a supervisor only steps in
  byId<HTMLFormElement>("start").addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    const emailInvite = byId<HTMLInputElement>("email-invite").checked;
    const outcome = await api.POST("/v1/sessions", { body: { email_invite: emailInvite } });
    if (!outcome.data) {
      say(problem, outcome);
      return;
    }
    const draft = outcome.data.draft;
    byId("draft").hidden = !draft;
    if (draft) {
      byId<HTMLAnchorElement>("draft-link").href = draft.mailto;
      window.open(draft.mailto, "_blank"); // S3: the e-mail window opens by itself
    }
    open(String(outcome.data.session_id), outcome.data);
  });
  byId<HTMLFormElement>("assist").addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    const session_number = byId<HTMLInputElement>("assist-number").value;
    const outcome = await api.POST("/v1/assist", { body: { session_number } });
    if (!outcome.data) {
      say(problem, outcome);
      return;
    }
    open(String(outcome.data.session.session_id), outcome.data);
  });
  if (who.roles.includes("agent")) agentView(api, open);
  if (who.roles.includes("supervisor")) supervisorView(api, open);
}

me ??= await signIn(api);
signedIn(me);
