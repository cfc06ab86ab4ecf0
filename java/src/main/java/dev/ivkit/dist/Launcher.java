package dev.ivkit.dist;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.IvkitException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts the worker JVMs of one node of a data-parallel run, as torchrun does: {@code nprocPerNode} processes running
 * {@code mainClass} with this JVM's java and class path, each told its rank through the environment
 * ({@link DistConfig#fromEnv}): global rank = nodeRank·nprocPerNode + local rank, world = nnodes·nprocPerNode.
 * Waits for all of them; when one fails the others are stopped (they would otherwise fail at their next collective,
 * within the timeout) and its exit code is returned.
 */
public final class Launcher {
    /**
     * @param logDir when not null, worker r's stdout and stderr go to {@code logDir/rank-r.log}; else to this
     *               process's
     */
    public record Spec(int nprocPerNode, int nnodes, int nodeRank, String masterAddr, int masterPort, Duration timeout,
            List<String> jvmArgs, Path logDir) {
        public Spec {
            if (nprocPerNode <= 0 || nnodes <= 0 || nodeRank < 0 || nodeRank >= nnodes) {
                throw new InvalidArgumentException("nproc", "need nproc >= 1, nnodes >= 1 and 0 <= node-rank < nnodes");
            }
            jvmArgs = List.copyOf(jvmArgs);
        }

        public int worldSize() {
            return nprocPerNode * nnodes;
        }
    }

    private Launcher() {}

    /** A TCP port free on {@code addr} right now (the store binds it a moment later; a race is unlikely). */
    public static int freePort(String addr) {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(addr))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new InvalidArgumentException("master-addr", "cannot open a port on " + addr + ": " + e.getMessage());
        }
    }

    /** The options of this JVM worth passing to workers: heap size, system properties, native access. */
    public static List<String> inheritedJvmArgs() {
        List<String> out = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-Xmx") || a.startsWith("-D") || a.startsWith("--enable-native-access")) {
                out.add(a);
            }
        }
        return out;
    }

    /** Runs the workers to the end; returns 0 when all succeeded, else the first failure's exit code. */
    public static int run(Spec spec, String mainClass, List<String> args) {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<Process> procs = new ArrayList<>();
        try {
            for (int local = 0; local < spec.nprocPerNode(); local++) {
                int rank = spec.nodeRank() * spec.nprocPerNode() + local;
                List<String> cmd = new ArrayList<>();
                cmd.add(java.toString());
                cmd.addAll(spec.jvmArgs());
                cmd.add("-cp");
                cmd.add(System.getProperty("java.class.path"));
                cmd.add(mainClass);
                cmd.addAll(args);
                ProcessBuilder pb = new ProcessBuilder(cmd);
                if (spec.logDir() != null) {
                    Files.createDirectories(spec.logDir());
                    pb.redirectErrorStream(true).redirectOutput(spec.logDir().resolve("rank-" + rank + ".log").toFile());
                } else {
                    pb.inheritIO();
                }
                pb.environment().put(DistConfig.ENV_RANK, Integer.toString(rank));
                pb.environment().put(DistConfig.ENV_WORLD, Integer.toString(spec.worldSize()));
                pb.environment().put(DistConfig.ENV_ADDR, spec.masterAddr());
                pb.environment().put(DistConfig.ENV_PORT, Integer.toString(spec.masterPort()));
                pb.environment().put(DistConfig.ENV_TIMEOUT, Double.toString(spec.timeout().toMillis() / 1000.0));
                pb.environment().put("OPT_OUT_TRACKING", "true");
                procs.add(pb.start());
            }
            int failed = 0;
            while (true) {
                boolean alive = false;
                for (Process p : procs) {
                    if (p.isAlive()) {
                        alive = true;
                    } else if (p.exitValue() != 0 && failed == 0) {
                        failed = p.exitValue();
                    }
                }
                if (failed != 0 || !alive) {
                    break;
                }
                procs.get(0).waitFor(200, TimeUnit.MILLISECONDS);
            }
            if (failed != 0) {
                stop(procs);
            }
            return failed;
        } catch (IOException e) {
            stop(procs);
            throw new IvkitException("cannot start a worker JVM: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            stop(procs);
            Thread.currentThread().interrupt();
            throw new IvkitException("interrupted while waiting for the workers", e);
        }
    }

    private static void stop(List<Process> procs) {
        for (Process p : procs) {
            p.destroy();
        }
        for (Process p : procs) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
