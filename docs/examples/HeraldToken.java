import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mints a Herald user token with the JDK alone: an HS256 JWT with `sub` (the
 * user id) and `exp`, signed with the UTF-8 bytes of AUTH_SECRET.
 *
 *   javac HeraldToken.java && AUTH_SECRET=... java HeraldToken 42
 */
public final class HeraldToken {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  public static String mint(String userId, String secret, long ttlSeconds) throws Exception {
    long now = System.currentTimeMillis() / 1000;
    String header = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    String payload = b64("{\"sub\":" + jsonString(userId) + ",\"iat\":" + now + ",\"exp\":" + (now + ttlSeconds) + "}");
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    byte[] signature = mac.doFinal((header + "." + payload).getBytes(StandardCharsets.UTF_8));
    return header + "." + payload + "." + B64.encodeToString(signature);
  }

  private static String b64(String json) {
    return B64.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** A JSON string literal (user ids never contain control characters: Herald refuses those). */
  private static String jsonString(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  public static void main(String[] args) throws Exception {
    String secret = System.getenv("AUTH_SECRET");
    if (secret == null || args.length != 1) {
      System.err.println("usage: AUTH_SECRET=... java HeraldToken <userId>");
      System.exit(2);
    }
    System.out.println(mint(args[0], secret, 12 * 3600));
  }
}
