package dev.ivkit.cli;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.pipeline.ResumableScan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ivkit extract}: the instruction vector of a scan. Heads: the top {@code --heads} of the scan's scores
 * ({@code --rank prob}: mean Δ probability, Todd; {@code nll}: largest mean NLL decrease, the IV authors'
 * {@code --gen}); with {@code --universal A,B,…} the ranking uses those scans' scores summed (Todd's universal
 * heads) while mean z still comes from {@code --scan}. The vector's layer (stored in its metadata, used by
 * {@code evaluate}) defaults to nLayers / 3 (Todd's GPT-J edit layer 9 of 28).
 */
@Command(name = "extract", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Build an instruction vector from a scan's mean activations and top heads.")
final class ExtractCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--scan", required = true, description = "folder written by ivkit scan")
    Path scan;

    @Option(names = "--heads", defaultValue = "10", description = "number of heads (default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--rank", defaultValue = "prob", description = "prob or nll (default: ${DEFAULT-VALUE})")
    String rank;

    @Option(names = "--layer", description = "layer the vector is meant for (default: layers / 3)")
    Integer layer;

    @Option(names = "--universal", split = ",", description = "scan folders whose scores are summed to rank heads")
    List<Path> universal;

    @Option(names = "--out", required = true, description = "output folder (iv.safetensors, iv.json)")
    Path out;

    @Override
    public Integer call() {
        HeadRanking.By by = ScanCommand.parse(HeadRanking.By.class, "rank", rank);
        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open(); PointerScope scope = new PointerScope()) {
            LlamaModel model = loaded.model();
            var c = model.config();
            int l = layer != null ? layer : c.nLayers() / 3;
            if (l < 0 || l >= c.nLayers()) {
                throw new InvalidArgumentException("layer", l + " is out of range [0, " + c.nLayers() + ")");
            }
            String fingerprint = ModelFingerprint.of(model);
            ScanFile main = readScan(scan, fingerprint);
            double[][] scores;
            if (universal == null || universal.isEmpty()) {
                scores = rankingScores(scan, main, by);
            } else {
                List<double[][]> all = new ArrayList<>();
                for (Path u : universal) {
                    all.add(rankingScores(u, readScan(u, fingerprint), by));
                }
                scores = HeadRanking.sum(all);
            }
            if (scores.length != c.nLayers() || scores[0].length != c.nHeads()) {
                throw new ModelFormatException(scan.resolve(ScanCommand.SCAN), "cie", "scores are " + scores.length + " × "
                        + scores[0].length + ", the model has " + c.nLayers() + " × " + c.nHeads() + " heads");
            }
            List<HeadRanking.Head> top = HeadRanking.top(scores, heads);
            Tensor meanZ = ResumableScan.readMeanZ(scan.resolve(ScanCommand.MEAN_Z));
            Map<String, Object> meta = new LinkedHashMap<>();
            Object[][] recorded = {{"task", main.task()}, {"shots", main.shots()}, {"scan_shots", main.scanShots()},
                {"corrupt", main.corrupt()}, {"prompt_format", main.promptFormat()}, {"prompts", main.prompts()},
                {"method", main.method()}, {"mode", main.mode()}, {"seed", main.seed()}};
            for (Object[] kv : recorded) {
                if (kv[1] != null) {
                    meta.put((String) kv[0], kv[1]);
                }
            }
            meta.put("layer", l);
            meta.put("rank", ScanCommand.lower(by));
            meta.put("scan", scan.toString());
            if (universal != null && !universal.isEmpty()) {
                meta.put("universal", universal.stream().map(Path::toString).toList());
            }
            meta.put("ivkit_version", new Main.Version().getVersion()[0]);
            try (InstructionVector iv = InstructionVector.build(model, meanZ, scores, top, meta)) {
                iv.save(out);
            }
            StringBuilder sb = new StringBuilder();
            for (HeadRanking.Head h : top) {
                sb.append(sb.length() == 0 ? "" : " ").append('(').append(h.layer()).append(',').append(h.head()).append(')');
            }
            System.out.println("extract: " + top.size() + " heads " + sb + ", layer " + l + "; wrote " + out);
            return 0;
        }
    }

    /** scan.json of a folder ({@link ScanFile#read}), checked to come from this model. */
    static ScanFile readScan(Path dir, String modelFingerprint) {
        Path f = dir.resolve(ScanCommand.SCAN);
        if (!Files.isRegularFile(f)) {
            throw new ModelFormatException(f, null, "no finished scan here (run or resume ivkit scan first)");
        }
        ScanFile o = ScanFile.read(f);
        if (!modelFingerprint.equals(o.modelFingerprint())) {
            throw new ModelFormatException(f, "model_fingerprint", "scan was made on model " + o.modelFingerprint()
                    + ", not on this one (" + modelFingerprint + ")");
        }
        return o;
    }

    /** Mean Δprob, or −mean ΔNLL, of a scan ({@link HeadRanking#scores} of its mean maps). */
    static double[][] rankingScores(Path dir, ScanFile scan, HeadRanking.By by) {
        if (scan.nllDelta() == null) {
            throw new ModelFormatException(dir.resolve(ScanCommand.SCAN), "nll_delta", "missing");
        }
        ScanScores means = new ScanScores(new double[][][] {scan.cie()}, new double[][][] {scan.nllDelta()}, new double[1],
                new double[1]);
        return HeadRanking.scores(means, by);
    }
}
