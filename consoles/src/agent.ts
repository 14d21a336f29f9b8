// The agent view (issue 16.3): availability (available, away, offline), the offers with their
// hand-off message and a countdown to expiry, Accept and Decline; an accepted session opens as
// a tab of the dashboard (``open``), where the agent is its controller.
import { type Api, byId, element, type Offer, type RelayAddress, say } from "./api";

export function agentView(api: Api, open: (sessionId: string, relay: RelayAddress) => void): void {
  byId("agent").hidden = false;
  const problem = byId("problem");
  for (const radio of document.querySelectorAll<HTMLInputElement>("input[name=availability]")) {
    radio.addEventListener("change", async () => {
      const status = radio.value as "available" | "away" | "offline";
      const outcome = await api.PUT("/v1/agents/me/status", { body: { status } });
      if (outcome.error) say(problem, outcome);
    });
  }
  let offers: Offer[] = [];
  const render = () => {
    byId("no-offers").hidden = offers.length > 0;
    byId("offers").replaceChildren(...offers.map((offer) => offered(offer)));
  };
  const offered = (offer: Offer): HTMLElement => {
    const seconds = Math.max(0, Math.round((Date.parse(offer.expires_at) - Date.now()) / 1000));
    const from = offer.queue_name ? `from ${offer.queue_name}` : "for you by name";
    const item = element("li", `A session ${from}: "${offer.message ?? ""}", ${seconds} s left`);
    const path = { params: { path: { offer_id: String(offer.offer_id) } } };
    const accept = element("button", "Accept", { type: "button" });
    accept.addEventListener("click", async () => {
      const outcome = await api.POST("/v1/offers/{offer_id}/accept", path);
      if (!outcome.data) return say(problem, outcome);
      offers = offers.filter((o) => o.offer_id !== offer.offer_id);
      render();
      open(String(offer.session_id), outcome.data);
    });
    const decline = element("button", "Decline", { type: "button" });
    decline.addEventListener("click", async () => {
      const outcome = await api.POST("/v1/offers/{offer_id}/decline", path);
      if (outcome.error) say(problem, outcome);
    });
    item.append(accept, decline);
    return item;
  };
  const poll = async () => {
    const { data } = await api.GET("/v1/agents/me/offers");
    if (data) offers = data.offers;
    render();
  };
  void poll();
  setInterval(() => void poll(), 2000);
  setInterval(render, 1000); // the countdown
}
