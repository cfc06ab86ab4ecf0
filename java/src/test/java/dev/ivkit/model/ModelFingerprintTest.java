package dev.ivkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Fingerprints stored with earlier IVs and adapters stay valid after ModelConfig gained eosIds and rope types. */
class ModelFingerprintTest {
    @Test
    void configDescriptionIsTheOldRecordString() {
        ModelConfig c = new ModelConfig("llama", 64, 172, 5, 8, 2, 8, 512, 1024, 1e-5, 500000.0, RopeStyle.HALF,
                new RopeScaling(32.0, 1.0, 4.0, 8192), true, false, 1, 2);
        // what the 17-component record printed (commit 616dbca and before)
        assertEquals("ModelConfig[architecture=llama, dModel=64, hiddenDim=172, nLayers=5, nHeads=8, nKvHeads=2, headDim=8, "
                + "vocabSize=512, maxSeqLen=1024, normEps=1.0E-5, ropeTheta=500000.0, ropeStyle=HALF, ropeScaling=RopeScaling["
                + "factor=32.0, lowFreqFactor=1.0, highFreqFactor=4.0, originalMaxPositions=8192], tiedEmbeddings=true, "
                + "attentionBias=false, bosId=1, eosId=2]", ModelFingerprint.describe(c));
        ModelConfig none = new ModelConfig("llama2.c", 64, 172, 5, 8, 8, 8, 512, 512, 1e-5, 10000.0, RopeStyle.INTERLEAVED,
                null, true, false, 1, -1);
        assertEquals("ModelConfig[architecture=llama2.c, dModel=64, hiddenDim=172, nLayers=5, nHeads=8, nKvHeads=8, headDim=8, "
                + "vocabSize=512, maxSeqLen=512, normEps=1.0E-5, ropeTheta=10000.0, ropeStyle=INTERLEAVED, ropeScaling=null, "
                + "tiedEmbeddings=true, attentionBias=false, bosId=1, eosId=-1]", ModelFingerprint.describe(none));
        ModelConfig more = new ModelConfig("llama", 64, 172, 5, 8, 2, 8, 512, 1024, 1e-5, 500000.0, RopeStyle.HALF,
                RopeScaling.linear(2), true, false, 1, 2, List.of(2, 7));
        assertNotEquals(ModelFingerprint.describe(c), ModelFingerprint.describe(more));
        assertEquals(true, ModelFingerprint.describe(more).endsWith("eosId=2, eosIds=[2, 7]]"));
    }
}
