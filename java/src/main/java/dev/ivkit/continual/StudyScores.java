package dev.ivkit.continual;

import dev.ivkit.eval.MultipleChoiceEval;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.IvEvaluator;
import dev.ivkit.iv.KnowledgeProbe;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** The measurements of a continual study's model: task scores, knowledge probe, general sets, the IV layer. */
final class StudyScores {
    private final SequenceSpec spec;
    private final Path dataRoot;

    StudyScores(SequenceSpec spec, Path dataRoot) {
        this.spec = spec;
        this.dataRoot = dataRoot;
    }

    /** The layer the IVs are added at: the spec's, else a third of the way up. */
    int ivLayer(LlamaModel m) {
        return spec.hyper.ivLayer >= 0 ? spec.hyper.ivLayer : m.config().nLayers() / 3;
    }

    static List<Object> heads(List<HeadRanking.Head> hs) {
        List<Object> out = new ArrayList<>();
        for (HeadRanking.Head h : hs) {
            out.add(List.of(h.layer(), h.head(), h.score()));
        }
        return out;
    }

    /** The task's score on its capped test set (see the class comment), optionally with {@code iv} added at {@code layer}. */
    static double score(LlamaModel m, Tokenizer tok, TaskData t, Tensor iv, int layer) {
        boolean firstToken = "first_token".equals(t.task.metric);
        IvEvaluator.Result r = new IvEvaluator(m, tok).evaluate(t.test, iv, layer, 1f, firstToken ? 0 : t.task.maxNewTokens, true);
        return switch (t.task.metric) {
            case "first_token" -> r.top1();
            case "em" -> r.exactMatch();
            default -> r.rougeL();
        };
    }

    static Map<String, Object> probe(LlamaModel m, Tokenizer tok, TaskData t) {
        KnowledgeProbe.Result k = new KnowledgeProbe(m, tok).run(t.probeBare, t.probeInstructed);
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("task", t.task.name);
        e.put("knowledge_p", k.bare());
        e.put("instruction_p", k.instructed());
        return e;
    }

    Map<String, Object> general(LlamaModel m, Tokenizer tok) {
        SequenceSpec.General g = spec.general;
        Map<String, Object> r = new LinkedHashMap<>();
        MultipleChoiceEval ev = new MultipleChoiceEval(m, tok);
        if (g.hellaswag > 0) {
            r.put("hellaswag", mc(ev.run(MultipleChoiceEval.hellaSwag(dataRoot.resolve(g.hellaswagPath), g.hellaswag, g.maxContextChars))));
        }
        if (g.boolq > 0) {
            r.put("boolq", mc(ev.run(MultipleChoiceEval.boolQ(dataRoot.resolve(g.boolqPath), g.boolq, g.maxContextChars))));
        }
        if (g.copa > 0) {
            r.put("copa", mc(ev.run(MultipleChoiceEval.copa(dataRoot.resolve(g.copaPath), g.copa))));
        }
        return r;
    }

    private static Map<String, Object> mc(MultipleChoiceEval.Result r) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("items", r.items());
        e.put("acc", r.accuracy());
        e.put("acc_norm", r.accuracyNorm());
        return e;
    }
}
