package dev.ivkit.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
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
 * Opens a report in headless Chromium (Debian's {@code chromium}; .ci/run installs it) and checks that every image
 * decodes and no script error occurs. A checker script is injected into a copy of the report: an error recorder at
 * the top of {@code <head>}, and, on load, a check of every {@code <img>} (complete, naturalWidth > 0) and every
 * inline {@code <svg>} (getBBox().width > 0); it writes a marker line into the DOM, which {@code --dump-dom} prints.
 * Skipped, with a message, when no Chromium is on the PATH.
 */
class ChromiumTest {
    static final Pattern MARKER = Pattern.compile("IVKIT-CHECK imgs=(\\d+) svgs=(\\d+) bad=(\\d+) errors=(\\d+) \\[(.*?)\\] END");

    /** Records script errors (window.onerror's ErrorEvents); a failed image load shows up in the image check instead. */
    static final String RECORDER = "<script>window.__ivkitErrors=[];window.addEventListener('error',function(e){"
            + "if(e instanceof ErrorEvent){window.__ivkitErrors.push(String(e.message));}},true);</script>";

    static final String CHECKER = """
            <script>
            window.addEventListener('load', function () {
              var bad = [], imgs = document.querySelectorAll('img'), svgs = document.querySelectorAll('svg');
              imgs.forEach(function (im, i) { if (!(im.complete && im.naturalWidth > 0)) bad.push('img' + i); });
              svgs.forEach(function (s, i) {
                try { var b = s.getBBox(); if (!(b.width > 0 && b.height > 0)) bad.push('svg' + i); }
                catch (e) { bad.push('svg' + i + ':' + e); }
              });
              var d = document.createElement('pre');
              d.id = 'ivkit-check';
              d.textContent = 'IVKIT-CHECK imgs=' + imgs.length + ' svgs=' + svgs.length + ' bad=' + bad.length
                + ' errors=' + window.__ivkitErrors.length + ' [' + bad.concat(window.__ivkitErrors).join('; ') + '] END';
              document.body.appendChild(d);
            });
            </script>
            """;

    record Check(int imgs, int svgs, int bad, int errors, String details) {}

    static String chromium() {
        for (String name : List.of("chromium", "chromium-browser")) {
            String path = System.getenv().getOrDefault("PATH", "");
            for (String dir : path.split(java.io.File.pathSeparator)) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isExecutable(p)) {
                    return p.toString();
                }
            }
        }
        return null;
    }

    /** Injects the checker into a copy of {@code html}, loads it in headless Chromium and reads the marker back. */
    static Check check(String chromium, String html, Path tmp) throws Exception {
        String page = html.replaceFirst("<head>", "<head>" + Matcher.quoteReplacement(RECORDER))
                .replace("</body>", CHECKER + "</body>");
        Path file = tmp.resolve("checked.html");
        Files.writeString(file, page);
        Path profile = Files.createDirectories(tmp.resolve("chromium-profile"));
        Path log = tmp.resolve("chromium.out");
        List<String> cmd = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--virtual-time-budget=5000", "--dump-dom",
                file.toUri().toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectOutput(log.toFile())
                .redirectError(tmp.resolve("chromium.err").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in 120 s");
        }
        String dom = Files.readString(log);
        Matcher m = MARKER.matcher(dom);
        assertTrue(m.find(), () -> "no check marker in the DOM (exit " + p.exitValue() + "); stderr: " + tail(tmp.resolve("chromium.err")));
        return new Check(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                Integer.parseInt(m.group(4)), m.group(5));
    }

    private static String tail(Path f) {
        try {
            String s = Files.readString(f);
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    @Test
    void everyImageDecodesAndNoScriptErrors(@TempDir Path tmp) throws Exception {
        String chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "chromium (or chromium-browser) is not on the PATH: skipping the headless "
                + "browser check (apt-get install chromium; .ci/run installs it)");
        Path run = ReportFixtures.full(Files.createDirectories(tmp.resolve("run")));
        String html = new ReportWriter(run, ReportWriterTest.FOOTER).render();
        int svgs = html.split("<svg ", -1).length - 1;
        Check c = check(chromium, html, tmp);
        assertEquals(svgs, c.svgs(), "Chromium sees every inline SVG");
        assertTrue(c.svgs() > 20);
        assertEquals(0, c.bad(), c.details());
        assertEquals(0, c.errors(), c.details());
    }

    /** The harness itself catches a broken image and a script error (so a pass above means something). */
    @Test
    void harnessDetectsBrokenImagesAndScriptErrors(@TempDir Path tmp) throws Exception {
        String chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "chromium (or chromium-browser) is not on the PATH: skipping");
        String html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
                + "<img src=\"data:image/png;base64,AAAA\" alt=\"broken\">"
                + "<img src=\"data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'>"
                + "<rect width='4' height='4'/></svg>\" alt=\"ok\">"
                + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>"
                + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>"
                + "<script>undefinedFunction();</script></body></html>";
        Check c = check(chromium, html, tmp);
        assertEquals(2, c.imgs());
        assertEquals(2, c.svgs());
        assertEquals(2, c.bad(), c.details());  // the broken PNG and the empty SVG
        assertTrue(c.details().contains("img0") && c.details().contains("svg1"), c.details());
        assertEquals(1, c.errors(), c.details());
    }
}
