import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sends a signed push to Herald with the JDK alone (Java 11+): instead of the
 * key itself, the request carries X-Herald-Timestamp (Unix seconds) and
 * X-Herald-Signature, the hex HMAC-SHA256 of timestamp + "." + the exact body
 * bytes, keyed with the UTF-8 bytes of PUSH_API_KEY.
 *
 *   javac -d /tmp/herald HeraldSignedPush.java
 *   PUSH_API_KEY=... java -cp /tmp/herald HeraldSignedPush http://localhost:3000 '{"tokens":["42"],"data":"hi"}'
 */
public final class HeraldSignedPush {
  /** The hex HMAC-SHA256 Herald expects for this timestamp and body. */
  public static String sign(String key, long timestamp, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
    byte[] digest = mac.doFinal(body);
    StringBuilder hex = new StringBuilder(digest.length * 2);
    for (byte b : digest) hex.append(String.format("%02x", b));
    return hex.toString();
  }

  public static void main(String[] args) throws Exception {
    String key = System.getenv("PUSH_API_KEY");
    if (key == null || args.length != 2) {
      System.err.println("usage: PUSH_API_KEY=... java HeraldSignedPush <baseUrl> <json body>");
      System.exit(2);
    }
    // Sign the bytes that are sent, not a re-serialization of them.
    byte[] body = args[1].getBytes(StandardCharsets.UTF_8);
    long timestamp = System.currentTimeMillis() / 1000;
    HttpRequest request = HttpRequest.newBuilder(URI.create(args[0] + "/api/push"))
        .header("Content-Type", "application/json")
        .header("X-Herald-Timestamp", Long.toString(timestamp))
        .header("X-Herald-Signature", sign(key, timestamp, body))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    // The default client (HTTP/2) offers "Upgrade: h2c" on http:// URLs; Herald answers in HTTP/1.1.
    HttpClient client = HttpClient.newHttpClient();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    System.out.println(response.statusCode() + " " + response.body());
    System.exit(response.statusCode() == 202 ? 0 : 1);
  }
}
