package dev.ivkit.cli;

import dev.ivkit.MatmulPrecision;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.demo.Demo;
import dev.ivkit.demo.DemoSettings;
import dev.ivkit.demo.SummaryFile;
import dev.ivkit.KlDirection;
import dev.ivkit.model.Device;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.OrganismConfig;
import dev.ivkit.report.ReportWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ivkit demo}: organism → IVs → continual fine-tuning → report.html, summary.json and a console table. */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "The IV study end to end on the model organism (pretrained first when absent): IVs of its tasks, "
                + "continual fine-tuning with naive, lwf, iv-guided and iv-guided-nopr, report.html and summary.json.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/demo", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--seeds", description = "seeds per method (default: 3; --full: 5)")
    Integer seeds;

    @Option(names = "--full", description = "the continual study of docs/demo.md: 4 fine-tuning tasks (rotl, prev, droplast, "
            + "caplast), 5 seeds, every method (naive, lwf, lwf-pr, ewc, replay, olora, iv-guided, iv-guided-nopr) and the "
            + "forgetting-vs-plasticity frontier of lwf and iv-guided at regulariser strengths 0.1, 0.3, 1 and 3 (about 50 "
            + "minutes on 2 cores)")
    boolean full;

    @Option(names = "--fine-tune-tasks", description = "how many of the organism's held-out tasks form the fine-tuning "
            + "sequence (default: 2; --full: 4)")
    Integer fineTuneTasks;

    @Option(names = "--sweep", split = ",", description = "regulariser strengths of the frontier sweep of lwf and iv-guided, "
            + "comma-separated (default: none; --full: 0.1,0.3,3; the main run is strength 1)")
    List<Double> sweep;

    @Option(names = "--organism", description = "organism folder (default: $IVKIT_CACHE/organism-v4 or ~/.cache/ivkit/organism-v4; "
            + "trained there when absent)")
    Path organism;

    @Option(names = "--methods", split = ",", description = "methods to run, comma-separated, of naive, lwf, lwf-pr, ewc, replay, "
            + "olora, iv-guided, iv-guided-nopr (default: naive,lwf,iv-guided,iv-guided-nopr; --full: all)")
    List<String> methods;

    @Option(names = "--kl", defaultValue = "reverse", description = "direction of the KL terms: reverse = KL(p_new || p_ref), the "
            + "IV authors' (default); forward = KL(p_ref || p_new)")
    String kl;

    @Option(names = "--alpha1", description = "weight of the KL at the answer-predicting position, against the reference with "
            + "the IV (lwf: without it); default 1, the IV authors'")
    Double alpha1;

    @Option(names = "--alpha2", description = "weight of the KL over every real position against the same reference; default 0.1")
    Double alpha2;

    @Option(names = "--alpha-pr", description = "weight of iv-guided's head-output preservation; default 1")
    Double alphaPr;

    @Option(names = "--reference-cache", defaultValue = "off", description = "the KL regularisers' reference cache (lwf, "
            + "lwf-pr, iv-guided, iv-guided-nopr): off (default), exact or K, as `ivkit train --reference-cache`")
    String referenceCache;

    @Option(names = "--reference-precision", defaultValue = "full", description = "the KL regularisers' reference GEMMs: "
            + "full (default) or reduced, as `ivkit train --reference-precision`")
    String referencePrecision;

    @Option(names = "--quick", description = "a much smaller run (a few queries and steps; for tests)")
    boolean quick;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}): where the "
            + "organism runs for the IV and fine-tuning stages (its pretraining, when needed, runs on the CPU)")
    String device;

    @Override
    public Integer call() {
        int seeds = this.seeds != null ? this.seeds : full ? 5 : 3;
        if (seeds <= 0) {
            throw new InvalidArgumentException("seeds", "must be positive, got " + seeds);
        }
        klDirection(kl);   // bad options fail before the organism is loaded or pretrained
        MatmulPrecision products = TrainCommand.referencePrecision(referencePrecision);
        int cacheTopK = TrainCommand.referenceCacheTopK(referenceCache);
        Device where = Device.parse(device).requireAvailable();
        checkWeight("--alpha1", alpha1);
        checkWeight("--alpha2", alpha2);
        checkWeight("--alpha-pr", alphaPr);
        long t0 = System.nanoTime();
        Path dir = organism != null ? organism : Organism.defaultDir();
        Organism org;
        if (Organism.exists(dir)) {
            org = Organism.load(dir, where);
        } else {
            System.err.println("[demo] no organism in " + dir + ": pretraining it (7 to 12 minutes on 2 cores)");
            Organism.loadOrTrain(dir, OrganismConfig.defaults()).close();
            org = Organism.load(dir, where);
        }
        SummaryFile.Summary summary;
        try (org) {
            DemoSettings s = quick ? DemoSettings.quick(seeds) : full ? DemoSettings.study(seeds) : DemoSettings.full(seeds);
            s = s.with(methods != null ? methods : s.methods(), klDirection(kl))
                    .withSequence(fineTuneTasks != null ? fineTuneTasks : s.fineTuneTasks(), sweep != null ? sweep : s.sweep());
            s = s.withWeights(alpha1 != null ? alpha1 : s.alpha1(), alpha2 != null ? alpha2 : s.alpha2(), alphaPr != null ? alphaPr : s.alphaPr())
                    .withReferenceCache(cacheTopK).withReferencePrecision(products);
            summary = new Demo(dir, out, s, System.err, where).run(org, new ReportWriter.Footer("ivkit demo --out " + out + " --seeds " + seeds
                    + (quick ? " --quick" : "") + (full ? " --full" : "")
                    + (fineTuneTasks != null ? " --fine-tune-tasks " + fineTuneTasks : "")
                    + (sweep != null ? " --sweep " + String.join(",", sweep.stream().map(String::valueOf).toList()) : "") + (methods != null ? " --methods " + String.join(",", methods) : "")
                    + (kl.equals("reverse") ? "" : " --kl " + kl) + (alpha1 != null ? " --alpha1 " + alpha1 : "")
                    + (alpha2 != null ? " --alpha2 " + alpha2 : "") + (alphaPr != null ? " --alpha-pr " + alphaPr : "")
                    + (referenceCache.equals("off") ? "" : " --reference-cache " + referenceCache)
                    + (referencePrecision.equals("full") ? "" : " --reference-precision " + referencePrecision)
                    + (where.equals(Device.CPU) ? "" : " --device " + where),
                    new Main.Version().getVersion()[0]));
        }
        System.out.print(Demo.table(summary));
        System.out.printf("%nwrote %s, %s and %s in %.1f s%n", out.resolve("summary.json"), out.resolve("results.json"),
                out.resolve("report.html"), (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private static void checkWeight(String option, Double w) {
        if (w != null) {
            DemoSettings.checkWeight(option, w);
        }
    }

    private static KlDirection klDirection(String kl) {
        return switch (kl) {
            case "reverse" -> KlDirection.REVERSE;
            case "forward" -> KlDirection.FORWARD;
            default -> throw new InvalidArgumentException("--kl", "must be forward or reverse, got " + kl);
        };
    }
}
