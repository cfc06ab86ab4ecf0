package dev.ivkit.cli;

import dev.ivkit.continual.Method;
import dev.ivkit.continual.SequenceRunner;
import dev.ivkit.continual.SequenceSpec;
import dev.ivkit.util.Torch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ivkit continual}: a continual-learning study over a task sequence (see {@link SequenceRunner}). */
@Command(name = "continual", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train a task sequence with several methods and seeds; write OUT/results.json (accuracy matrix, AP, BWT, FWT, "
                + "IV dynamics) and print a table. Re-running with the same arguments continues an interrupted study.")
final class ContinualCommand implements Callable<Integer> {
    @Option(names = "--spec", required = true, description = "sequence spec JSON file, or builtin:seq0 | builtin:seq1 | builtin:seq2")
    String spec;

    @Option(names = "--model", required = true, description = "llama2.c .bin file or Hugging Face model directory")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer file (default: found next to the model)")
    Path tokenizer;

    @Option(names = "--data-root", defaultValue = "../shared/data", description = "root of the spec's data paths (default: ${DEFAULT-VALUE})")
    Path dataRoot;

    @Option(names = "--methods", split = ",", description = "naive,iv-guided,lwf,ewc,replay,olora (default: the spec's)")
    List<String> methods;

    @Option(names = "--seeds", description = "run seeds 1..N (default: the spec's seeds)")
    Integer seeds;

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    @Option(names = "--train-cap", description = "training examples per task (overrides the spec)")
    Integer trainCap;

    @Option(names = "--test-cap", description = "test examples per task (overrides the spec)")
    Integer testCap;

    @Option(names = "--general-cap", description = "items per general multiple-choice set (overrides the spec; 0 = skip)")
    Integer generalCap;

    @Option(names = "--iv-prompts", description = "prompts per IV extraction (overrides the spec)")
    Integer ivPrompts;

    @Option(names = "--no-layer-sweep", description = "skip the base-IV layer sweep")
    boolean noLayerSweep;

    @Option(names = "--prompt", description = "superni or io (overrides the spec)")
    String prompt;

    @Option(names = "--max-input-chars", description = "cut task inputs to this many characters (overrides the spec)")
    Integer maxInputChars;

    @Option(names = "--lr", description = "learning rate (overrides the spec)")
    Double lr;

    @Option(names = "--epochs", description = "epochs per task (overrides the spec)")
    Integer epochs;

    @Option(names = "--reference-cache", description = "the KL regularisers' reference cache: off, exact or K, as `ivkit train "
            + "--reference-cache` (overrides the spec's hyper.reference_cache)")
    String referenceCache;

    @Option(names = "--reference-precision", description = "their reference GEMMs: full or reduced, as `ivkit train "
            + "--reference-precision` (overrides the spec's hyper.reference_precision)")
    String referencePrecision;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}): where the "
            + "model, its adapters and every training step live")
    String device;

    @Override
    public Integer call() {
        Torch.init();
        dev.ivkit.model.Device where = dev.ivkit.model.Device.parse(device).requireAvailable();  // before any file is read
        SequenceSpec s = SequenceSpec.resolve(this.spec);
        if (trainCap != null) {
            s.trainCap = trainCap;
            s.tasks.forEach(t -> t.trainCap = null);
        }
        if (testCap != null) {
            s.testCap = testCap;
            s.probeCap = Math.min(s.probeCap, testCap);
            s.tasks.forEach(t -> t.testCap = null);
        }
        if (generalCap != null) {
            s.general.hellaswag = generalCap;
            s.general.boolq = generalCap;
            s.general.copa = generalCap;
        }
        if (ivPrompts != null) {
            s.ivPrompts = ivPrompts;
        }
        if (noLayerSweep) {
            s.layerSweep = false;
        }
        if (prompt != null) {
            s.prompt = prompt;
        }
        if (maxInputChars != null) {
            s.maxInputChars = maxInputChars;
        }
        if (lr != null) {
            s.hyper.lr = lr;
        }
        if (epochs != null) {
            s.hyper.epochs = epochs;
        }
        if (referenceCache != null) {
            TrainCommand.referenceCacheTopK(referenceCache);   // refused naming the option, not the spec field
            s.hyper.referenceCache = referenceCache;
        }
        if (referencePrecision != null) {
            TrainCommand.referencePrecision(referencePrecision);
            s.hyper.referencePrecision = referencePrecision;
        }
        s = s.copy();   // re-validates
        List<Long> seedList = new ArrayList<>(s.seeds);
        if (seeds != null) {
            seedList.clear();
            for (long i = 1; i <= seeds; i++) {
                seedList.add(i);
            }
        }
        List<Method> ms = Method.parseList(methods != null ? methods : s.methods);
        Path tok = tokenizer != null ? tokenizer : GenerateCommand.defaultTokenizer(model);
        Path results = new SequenceRunner(s, dataRoot, model, tok, out).device(where).log(System.err).run(ms, seedList);
        System.out.println("wrote " + results);
        return 0;
    }
}
