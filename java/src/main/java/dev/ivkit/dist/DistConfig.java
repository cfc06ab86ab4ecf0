package dev.ivkit.dist;

import dev.ivkit.InvalidArgumentException;
import java.time.Duration;
import java.util.Map;

/**
 * Where and who a rank is: the rendezvous store at {@code masterAddr:masterPort} (hosted by rank 0), this process's
 * rank and the world size, and the timeout for joining and for each collective.
 *
 * <p>{@link #fromEnv} reads what {@link Launcher} sets for each worker JVM: {@code IVKIT_RANK},
 * {@code IVKIT_WORLD_SIZE}, {@code IVKIT_MASTER_ADDR}, {@code IVKIT_MASTER_PORT}, {@code IVKIT_DIST_TIMEOUT_S}.
 */
public record DistConfig(String masterAddr, int masterPort, int rank, int worldSize, Duration timeout) {
    public static final String ENV_RANK = "IVKIT_RANK";
    public static final String ENV_WORLD = "IVKIT_WORLD_SIZE";
    public static final String ENV_ADDR = "IVKIT_MASTER_ADDR";
    public static final String ENV_PORT = "IVKIT_MASTER_PORT";
    public static final String ENV_TIMEOUT = "IVKIT_DIST_TIMEOUT_S";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);

    public DistConfig {
        if (masterAddr == null || masterAddr.isBlank()) {
            throw new InvalidArgumentException("master-addr", "must not be empty");
        }
        if (masterPort <= 0 || masterPort > 65535) {
            throw new InvalidArgumentException("master-port", "must be in 1..65535, got " + masterPort);
        }
        if (worldSize <= 0 || rank < 0 || rank >= worldSize) {
            throw new InvalidArgumentException("rank", "need 0 <= rank < world size, got rank " + rank + " of " + worldSize);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new InvalidArgumentException("timeout", "must be positive");
        }
    }

    public String endpoint() {
        return masterAddr + ":" + masterPort;
    }

    /** True when the environment names a rank (this JVM is a worker started by a launcher). */
    public static boolean inEnv(Map<String, String> env) {
        return env.get(ENV_RANK) != null && env.get(ENV_WORLD) != null;
    }

    public static DistConfig fromEnv(Map<String, String> env) {
        String t = env.get(ENV_TIMEOUT);
        return new DistConfig(env.getOrDefault(ENV_ADDR, "127.0.0.1"), parse(env, ENV_PORT, null), parse(env, ENV_RANK, null),
                parse(env, ENV_WORLD, null), t == null ? DEFAULT_TIMEOUT : Duration.ofMillis((long) (Double.parseDouble(t) * 1000)));
    }

    private static int parse(Map<String, String> env, String key, Integer dflt) {
        String v = env.get(key);
        if (v == null) {
            if (dflt != null) {
                return dflt;
            }
            throw new InvalidArgumentException(key, "environment variable is not set");
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException(key, "not a number: '" + v + "'");
        }
    }
}
