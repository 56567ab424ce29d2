// A receiver for Herald's webhooks with the JDK alone (Java 11+): it checks each
// request as the Standard Webhooks specification says, then hands the events on.
//
//   javac HeraldWebhookReceiver.java
//   HERALD_WEBHOOK_SECRET=whsec_... java HeraldWebhookReceiver 8090
//
// and start Herald with WEBHOOK_URL=http://127.0.0.1:8090/herald-webhooks and
// the same WEBHOOK_SECRET. Any Svix-compatible library verifies the same way.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public final class HeraldWebhookReceiver {
  /** A request whose timestamp is further than this from our clock is refused: a replay. Herald signs every attempt, retries too, as it sends it. */
  private static final long TOLERANCE_SECONDS = 5 * 60;

  private final byte[] key;

  HeraldWebhookReceiver(String secret) {
    if (!secret.startsWith("whsec_")) throw new IllegalArgumentException("the secret is the whsec_... form");
    this.key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
  }

  /** True when the headers sign this exact body with our secret, within the time tolerance. */
  boolean verify(String id, String timestamp, String signatures, byte[] body) throws Exception {
    if (id == null || timestamp == null || signatures == null) return false;
    long ts;
    try {
      ts = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      return false;
    }
    if (Math.abs(System.currentTimeMillis() / 1000 - ts) > TOLERANCE_SECONDS) return false;
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
    byte[] expected = mac.doFinal(body);
    // The header may carry several space-separated signatures ("v1,<base64>"): one match is enough.
    for (String candidate : signatures.split(" ")) {
      if (!candidate.startsWith("v1,")) continue;
      byte[] given;
      try {
        given = Base64.getDecoder().decode(candidate.substring(3));
      } catch (IllegalArgumentException e) {
        continue;
      }
      if (MessageDigest.isEqual(expected, given)) return true;
    }
    return false;
  }

  void handle(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readAllBytes();
      var headers = exchange.getRequestHeaders();
      boolean ok = verify(headers.getFirst("webhook-id"), headers.getFirst("webhook-timestamp"), headers.getFirst("webhook-signature"), body);
      if (!ok) {
        exchange.sendResponseHeaders(400, -1);
        return;
      }
      // The same webhook-id can arrive again (delivery is at least once): a real receiver records the
      // ids it has handled and skips repeats. Here the batch is printed: {"type":"notification.events",
      // "timestamp":…,"data":{"events":[{"type":"notification.delivered","id":…,"userId":…},…]}}.
      System.out.println(headers.getFirst("webhook-id") + " " + new String(body, StandardCharsets.UTF_8));
      exchange.sendResponseHeaders(204, -1);
    } catch (Exception e) {
      // Anything but a 2xx makes Herald retry later, with the same id and body.
      exchange.sendResponseHeaders(500, -1);
    } finally {
      exchange.close();
    }
  }

  public static void main(String[] args) throws IOException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8090;
    String secret = System.getenv("HERALD_WEBHOOK_SECRET");
    if (secret == null) throw new IllegalStateException("set HERALD_WEBHOOK_SECRET to Herald's WEBHOOK_SECRET");
    HeraldWebhookReceiver receiver = new HeraldWebhookReceiver(secret);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/herald-webhooks", receiver::handle);
    server.start();
    System.out.println("listening on http://127.0.0.1:" + port + "/herald-webhooks");
  }
}
