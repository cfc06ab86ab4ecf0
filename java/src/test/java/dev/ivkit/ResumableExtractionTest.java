package dev.ivkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.iv.ScanFile;
import dev.ivkit.iv.ScanPartialFile;
import dev.ivkit.pipeline.ResumableScan;
import dev.ivkit.pipeline.ScanMismatchException;
import dev.ivkit.testutil.Compare;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link IvkitModel#extractIv} with a work folder on stories260K and the antonym task: a run cancelled after two
 * prompts and called again with the same options gives the uninterrupted run's scan.json, mean activations and
 * vector, bit for bit, and the in-memory run's vector; a finished scan is reused; other options are refused with the
 * option named.
 */
class ResumableExtractionTest {
    static final int PROMPTS = 4;

    static ExtractOptions.Builder options() {
        return ExtractOptions.builder(IvkitFacadeTest.task()).shots(IvkitFacadeTest.SHOTS).prompts(PROMPTS)
                .meanPrompts(IvkitFacadeTest.MEAN_PROMPTS).heads(IvkitFacadeTest.HEADS).layer(IvkitFacadeTest.LAYER)
                .seed(IvkitFacadeTest.SEED);
    }

    /** Records the SCAN steps it sees, and cancels its token after {@code cancelAt} of them (0: never). */
    static final class Steps implements ProgressListener {
        final CancellationToken token = new CancellationToken();
        final List<Integer> seen = new ArrayList<>();
        final int cancelAt;

        Steps(int cancelAt) {
            this.cancelAt = cancelAt;
        }

        @Override
        public void onStep(Stage stage, int done, int total, double value) {
            assertEquals(Stage.SCAN, stage);
            assertEquals(PROMPTS, total);
            seen.add(done);
            if (seen.size() == cancelAt) {
                token.cancel();
            }
        }
    }

    @Test
    void aCancelledExtractionResumesToTheUninterruptedOneBitForBit(@TempDir Path tmp) throws Exception {
        Path whole = tmp.resolve("whole"), cut = tmp.resolve("cut");
        try (IvkitModel m = Ivkit.open(IvkitFacadeTest.model());
             ExtractResult memory = m.extractIv(options().build());
             ExtractResult full = m.extractIv(options().workDir(whole).build())) {
            assertArrayEquals(Files.readAllBytes(whole.resolve("scan.json")), full.scan().toJson().getBytes("UTF-8"));
            assertEquals(ScanFile.read(whole.resolve("scan.json")).toJson(), full.scan().toJson());
            Compare.assertBitEqual(memory.iv().vector(), full.iv().vector(), "in memory vs with a work folder");

            Steps first = new Steps(2);
            CancelledException e = assertThrows(CancelledException.class,
                    () -> m.extractIv(options().workDir(cut).build(), first, first.token));
            assertTrue(e.getMessage().contains("after 2 of 4"), e.getMessage());
            assertEquals(List.of(1, 2), first.seen);
            assertFalse(Files.exists(cut.resolve("scan.json")));
            assertEquals(2, ScanPartialFile.read(cut.resolve(ResumableScan.PARTIAL)).done().size());

            Steps second = new Steps(0);
            try (ExtractResult resumed = m.extractIv(options().workDir(cut).build(), second, second.token)) {
                assertEquals(List.of(3, 4), second.seen, "only the prompts not scored before");
                assertArrayEquals(Files.readAllBytes(whole.resolve("scan.json")), Files.readAllBytes(cut.resolve("scan.json")));
                assertArrayEquals(Files.readAllBytes(whole.resolve("mean_z.safetensors")),
                        Files.readAllBytes(cut.resolve("mean_z.safetensors")));
                assertFalse(Files.exists(cut.resolve(ResumableScan.PARTIAL)), "the partial file is gone when done");
                Compare.assertBitEqual(full.iv().vector(), resumed.iv().vector(), "resumed vs uninterrupted");
                Compare.assertBitEqual(full.iv().meanZ(), resumed.iv().meanZ(), "mean z");
                assertEquals(full.topHeads(), resumed.topHeads());
                assertArrayEquals(full.rankingScores(), resumed.rankingScores());
            }

            // a finished scan is reused: other heads and rank need no prompt scored
            Steps third = new Steps(0);
            try (ExtractResult more = m.extractIv(options().workDir(cut).heads(6).rank(ExtractOptions.Rank.NLL).build(),
                    third, third.token);
                 ExtractResult fresh = m.extractIv(options().heads(6).rank(ExtractOptions.Rank.NLL).build())) {
                assertEquals(List.of(), third.seen);
                Compare.assertBitEqual(fresh.iv().vector(), more.iv().vector(), "reused scan vs a fresh one");
                assertEquals(6, more.topHeads().size());
            }
        }
    }

    @Test
    void otherOptionsInTheSameFolderAreRefusedNamingTheOption(@TempDir Path tmp) {
        Path cut = tmp.resolve("cut"), done = tmp.resolve("done");
        try (IvkitModel m = Ivkit.open(IvkitFacadeTest.model())) {
            Steps one = new Steps(1);
            assertThrows(CancelledException.class, () -> m.extractIv(options().workDir(cut).build(), one, one.token));
            m.extractIv(options().workDir(done).build()).close();

            ScanMismatchException prompts = assertThrows(ScanMismatchException.class,
                    () -> m.extractIv(options().prompts(5).workDir(cut).build()));
            assertEquals("prompts", prompts.field());
            assertEquals(cut.resolve(ResumableScan.PARTIAL), prompts.file());
            assertEquals(4L, prompts.was());
            assertEquals(5, prompts.now());
            assertEquals("seed", assertThrows(InvalidArgumentException.class,
                    () -> m.extractIv(options().seed(8).workDir(done).build())).field(), "a finished scan too");
            assertEquals("mode", assertThrows(ScanMismatchException.class,
                    () -> m.extractIv(options().mode(ExtractOptions.Mode.ADD).workDir(done).build())).field());
            assertEquals("shuffledLabels", assertThrows(ScanMismatchException.class,
                    () -> m.extractIv(options().shuffledLabels(false).workDir(cut).build())).field());
            // an interrupt stops it between two prompts as a cancellation does, leaving the flag set
            ProgressListener interrupt = new ProgressListener() {
                @Override
                public void onStep(Stage stage, int done, int total, double value) {
                    Thread.currentThread().interrupt();
                }
            };
            Path third = tmp.resolve("interrupted");
            try {
                CancelledException i = assertThrows(CancelledException.class,
                        () -> m.extractIv(options().workDir(third).build(), interrupt, new CancellationToken()));
                assertTrue(i.getMessage().startsWith("interrupted") && i.getMessage().contains("after 1 of 4"), i.getMessage());
                assertTrue(Thread.currentThread().isInterrupted());
            } finally {
                Thread.interrupted();
            }
            assertEquals(1, ScanPartialFile.read(third.resolve(ResumableScan.PARTIAL)).done().size());
            // nothing was changed by the refusals: the cut run still resumes
            assertEquals(1, ScanPartialFile.read(cut.resolve(ResumableScan.PARTIAL)).done().size());
            Steps rest = new Steps(0);
            m.extractIv(options().workDir(cut).build(), rest, rest.token).close();
            assertEquals(List.of(2, 3, 4), rest.seen);
        }
    }
}
