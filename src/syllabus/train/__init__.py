"""Fine-tuning causal LMs on compiled builds (optional extra: needs torch, transformers, peft)."""
