package dev.ivkit.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.cli.Main;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.testutil.TestModels;
import dev.ivkit.util.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ivkit never phones home. {@code ivkit generate} with a Hugging Face tokenizer.json (DJL's tokenizers, which download
 * and report usage unless told not to) runs in a child JVM inside a network namespace without connectivity
 * ({@code unshare -n}) and under {@code strace -f -e trace=connect}: it must succeed, and strace must show no
 * connect() to an internet address (AF_UNIX and loopback are allowed). The child gets neither
 * {@code -Dai.djl.offline} nor {@code OPT_OUT_TRACKING}: Main must set what is needed itself. Skipped, saying why,
 * where neither tool can be used.
 */
class NoNetworkTest {
    static boolean works(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** A random tiny Llama whose vocabulary fits GPT-2's tokenizer (50,257 tokens). */
    static Path tinyGpt2Model(Path dir) {
        Torch.init();
        ModelConfig cfg = new ModelConfig("llama", 8, 12, 1, 2, 1, 4, 50257, 64, 1e-5, 10000.0, RopeStyle.HALF, null,
                false, false, 50256, 50256);
        TestModels.writeHf(dir, cfg, 0.1, w -> {});
        return dir;
    }

    @Test
    void generateWithAnHfTokenizerMakesNoConnection(@TempDir Path tmp) throws Exception {
        Path tokenizer = SharedData.require("models/gpt2-tokenizer").resolve("tokenizer.json");
        boolean unshare = works("unshare", "-n", "true");
        boolean strace = works("strace", "-f", "-e", "trace=connect", "-o", "/dev/null", "true");
        Assumptions.assumeTrue(unshare || strace, "skipped: neither 'unshare -n' (needs root or CAP_SYS_ADMIN) nor "
                + "'strace' can run here, so there is no way to watch or cut the network");
        Path model = tinyGpt2Model(Files.createDirectories(tmp.resolve("model")));
        Path trace = tmp.resolve("connect.trace");
        List<String> cmd = new ArrayList<>();
        if (unshare) {
            cmd.addAll(List.of("unshare", "-n"));
        }
        if (strace) {
            cmd.addAll(List.of("strace", "-f", "-e", "trace=connect", "-o", trace.toString()));
        }
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "generate", "--model", model.toString(),
                "--tokenizer", tokenizer.toString(), "--prompt", "Hello world", "--max-new-tokens", "4", "--temperature", "0"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().remove("OPT_OUT_TRACKING");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process p = pb.start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child timed out");
        String log = Files.readString(tmp.resolve("child.log"));
        assertEquals(0, p.exitValue(), () -> String.join(" ", cmd.subList(0, Math.min(8, cmd.size()))) + " …: " + log);
        System.out.println("no-network: ran under " + (unshare ? "unshare -n " : "") + (strace ? "strace" : ""));
        if (strace) {
            List<String> external = new ArrayList<>();
            int connects = 0;
            Pattern inet = Pattern.compile("connect\\(.*sa_family=AF_INET6?,.*?(?:inet_addr\\(\"([^\"]+)\"\\)|inet_pton\\(AF_INET6, \"([^\"]+)\")");
            for (String line : Files.readAllLines(trace)) {
                if (!line.contains("connect(")) {
                    continue;
                }
                connects++;
                Matcher m = inet.matcher(line);
                if (m.find()) {
                    String addr = m.group(1) != null ? m.group(1) : m.group(2);
                    if (!addr.startsWith("127.") && !addr.equals("::1")) {
                        external.add(line.strip());
                    }
                } else if (line.contains("AF_INET")) {
                    external.add(line.strip());
                }
            }
            System.out.println("no-network: " + connects + " connect() calls in the trace, " + external.size() + " to the network");
            assertEquals(List.of(), external, "connect() to a non-loopback address");
        }
    }
}
