"""Cost-model constants per HLS backend, each with where it came from.

Fitted constants come from real reports in ../shared (triples: Vivado HLS 2019.2 Latency-strategy
jet taggers; calibration: wa-hls4ml Vitis 2023.2 Resource-strategy dense networks). See
docs/estimator.md for the fits and their measured errors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CostConstants:
    # --- multipliers -----------------------------------------------------------------------
    # Latency strategy: a constant multiplication becomes a DSP only if its mantissa has at least
    # this many nonzero CSD digits (fewer: shifts and adds in LUTs). Triples: within 5 % per layer.
    dsp_min_csd_digits: int = 3
    # ... and only if the other operand is at least this wide: in jet-qkeras6-pruned75 the layers
    # fed by 6-bit activations use 0 DSP, the layer fed by 16-bit inputs uses them; Lrozzy's HGQ
    # layers (Vitis HLS 2024.1) put 8- and 9-bit inputs times 11-12-bit constants on DSPs
    # (mul_8ns_11ns, mul_9ns_11s, mul_9ns_12s). 7 bits: no report shows it either way.
    dsp_min_input_bits: int = 8
    # ... and only if the wider of the two operands (input, constant as the tool sizes it) is at
    # least this wide: a 10 x 10-bit product stays in LUTs, 10 x 12 goes to a DSP (Lrozzy's
    # mul_10ns_10ns in LUTs beside mul_10ns_12ns in DSPs; alex_model's 10-bit ReLU outputs times
    # 10-bit weights: 0 DSP for 184 products of >= 3 CSD digits; both Vitis HLS).
    dsp_min_wider_operand_bits: int = 11
    # Resource strategy: each parallel multiplier is a DSP from this weight width up (wa-hls4ml
    # calibration, Vitis 2023.2: 8-bit weights use DSPs, 6-bit ones do not; hls4ml's own
    # VivadoDSPEstimator assumes 9 for Vivado).
    resource_dsp_min_weight_bits: int = 8
    # Vivado HLS (2020.1 and older) maps narrower Resource-strategy products to DSPs too: a product
    # is a DSP when both operands are at least this wide ("operand_bits" rule; see TOOL_VERSIONS).
    resource_dsp_rule: str = "weight_bits"  # or "operand_bits"
    resource_dsp_min_operand_bits: int = 4
    # ... and the signed product at least this wide: ftag_gru (Vivado HLS 2019.2), signed 4 x 4-bit
    # products (8 bits), 123 DSPs for 1,512 Resource multipliers and its other layers; Spehic (2020.1),
    # unsigned 4 x signed 4 (9 signed bits), 256 DSPs for 512; Gabriele-bot (2020.1), 3 x 5 and
    # 2-bit unsigned x 4 (8 and 7), none
    resource_dsp_min_product_bits: int = 9
    # ... and packs two such products into one DSP while weight + input bits stay at or below this
    # (0: never). Spehic, 4-bit weights x 4-bit inputs: exactly half the multipliers in both layers
    # (64 DSP for 128 multipliers, 256 for 512); 4 x 16 bits: one each. Two narrow products sharing
    # a DSP is the packing of Xilinx WP486 (two INT8 products per DSP48E2); here seen at 8 bits total.
    resource_dsp_pack_two_max_operand_bits: int = 0
    # DSP multiplier port widths (signed bits): DSP48E2 (UltraScale/UltraScale+) 27x18, DSP48E1
    # (7-series) 25x18 (Xilinx UG579, UG479). A wider product takes several DSPs: qconv1d-encoder
    # (28-bit inputs x 12-bit weights, xcvu13p) reports 2 DSPs per product in every layer.
    dsp_a_bits: int = 27
    dsp_b_bits: int = 18
    # ``config_op mul -impl dsp|fabric`` in the project's build (directives.py): "" lets the tool
    # choose (the rules above); "dsp" drops the input-width and weight-width thresholds (corpus
    # ARRYTHMIA_DSP: the 8-bit-input output layer reports 42 DSPs, its >= 3-CSD-digit constants 39-46);
    # "fabric" puts every multiplication in LUTs.
    mul_impl: str = ""
    # A multiplication forced into fabric that is not a constant shift-add: LUTs per partial-product
    # bit (a x b). One module: HAR_LUT_reuse2 fc1, mul_8s_5s = 62 LUT (1.55 x 8 x 5).
    lut_fabric_mul_per_pp_bit: float = 1.55
    # Resource-strategy multipliers that are not on DSPs priced as LUT multipliers (per the constant
    # above). Off by default: on the wa-hls4ml Vitis 2023.2 sample the fitted LUT-multiplier term is 0
    # (benchmarks/fit_resource.py); on for Vivado HLS (TOOL_VERSIONS).
    resource_lut_multipliers: bool = False
    # ... and their adds into the accumulators (one adder of accumulator width per multiplier slot, at
    # lut_per_adder_bit) where no DSP post-adder takes them: LUT products and two products packed per
    # DSP. Vivado HLS only (TOOL_VERSIONS): the wa-hls4ml Vitis 2023.2 sample's LUT gets no better
    # with it (held-out SMAPE 8.67 -> 8.72 % with its other constants refitted).
    resource_lut_accumulators: bool = False
    # a carry-chain adder: one LUT per bit (the triples' Expression rows, Vivado HLS 2019.2: 1.046 LUT
    # per bit over 17,905 adders; benchmarks/fit_adders.py)
    lut_per_adder_bit: float = 1.0
    # Vivado HLS prices most adders of an io_stream design at width + 7 LUT, where its io_parallel
    # designs' are width + 0 (every +/- row of the Expression tables, LUT - operand width: 7 in all
    # 482 of Gabriele-bot's CNN and in all of the Berk-Bilgin encoders' 5,071 / 2,416 / 2,472 (2020.1),
    # all 484 of quickdraw_gru_smaller_reuse (2019.1), 80 of 97 and 91 of 181 in ChiRuiChen's (2019.2),
    # 90 of 177 in yolov3tiny's, 39 of 58 in Spehic's; 0 in the 2019.2 io_parallel triples and
    # quickdraw_gru). What decides it is not in the rows; empirical. Per adder in LUTs (tree, shift-add,
    # Resource accumulator) of an io_stream layer; TOOL_VERSIONS sets it for Vivado HLS. Vitis HLS's
    # (about half its adders, either I/O type) is in its per-bit price (lut_adder_scale)
    lut_stream_adder_extra: float = 0.0
    # Latency strategy at RF > 1: do all nonzero products take turns on the shared multipliers
    # (Vivado HLS), or only those that stay mul operators, >= 3 CSD digits (Vitis HLS)? model.mul_operators
    serialize_all_products: bool = False
    # --- LUT, Latency dense: non-negative least squares over the 17 dense modules of 5 Vivado HLS 2019.2
    # triples (benchmarks/fit_latency_lut.py; fit SMAPE 4.0 %, the held-out jet rf2 and pynq-z2 layers 11.3 %)
    # adder trees: per bit of each adder, sized by bit growth from its products (model.tree_adder_bits).
    # About the Expression tables' own price of an adder bit (1.046); adders as wide as the accumulator
    # fitted at 0.655 (0.726 before the 2026-12-04 refit), i.e. they are narrower than it
    lut_per_tree_adder_bit: float = 0.973
    lut_per_shift_add_bit: float = 1.314  # LUT multipliers: per (CSD digits - 1) adder of (input bits + 6)
    lut_per_dsp: float = 9.33  # glue per DSP product (0.58 per bit of a 16-bit result)
    # element-wise adders at the result's width (BatchNormalization, LayerNormalization, merges): the
    # accumulator-width tree price above, kept for them (not refitted on their own modules)
    lut_per_tree_bit: float = 0.726
    # The adder terms above were fitted on Vivado HLS 2019.2 reports. Vitis HLS 2023.1 and later
    # price an adder bit higher: every +/- row of the Expression tables, pooled, 1.268 LUT per bit in
    # 5 repositories (Alezander9, Lrozzy, max-cohen54, MinhNguy3n, conv1d-vitis2024; 9,273 adders;
    # 1.217-1.294 with any one left out) against 1.046 in the triples (Vivado HLS 2019.2, 17,905) and
    # 1.047 in ArgyKokk's (Vitis HLS 2021.1, 31,607): 1.21 times. The default is the current tools';
    # TOOL_VERSIONS sets 1.0 for the older ones (benchmarks/fit_adders.py). constants_for multiplies it
    # into the adder terms.
    lut_adder_scale: float = 1.21
    # --- FF, Latency dense -------------------------------------------------------------------
    # Pipelined layers: FF per DSP, ratio of sums over the 14 registered dense modules of the four
    # 16-bit jet triples (per project 3.5-5.1). A layer is pipelined when its widest output sums at
    # least this many products (modules summing <= 11 had no registers, >= 16 had them).
    ff_per_dsp: float = 4.12
    registered_min_products: int = 12
    # Registers between layers of a pipelined design, per output bit: mean over the five jet triples
    # of (top-level FF - input registers) / layer output bits (0.51-0.82).
    ff_per_stage_bit: float = 0.7
    # The scheduled model (timing.py) counts the bits alive at each register cut; the HLS tool keeps
    # fewer (constant and unused bits are trimmed). Set by hand from the corpus Latency designs,
    # which report 0.7-0.9 of the counted bits at RF 1; not fitted.
    ff_per_stage_bit_scheduled: float = 0.7
    # --- Resource strategy LUT/FF per dense layer (benchmarks/fit_resource.py: non-negative least
    # squares on half of the wa-hls4ml Vitis 2023.2 sample; held-out SMAPE LUT 8.7 %, FF 7.2 %).
    # A per-layer constant and a LUT-multiplier term were in the fit and came out 0.
    resource_lut_per_input_bit: float = 1.686  # input selection muxes: n_in x input bits
    resource_lut_per_acc_bit: float = 6.40  # accumulators and output logic: n_out x accumulator bits
    resource_ff_per_input_bit: float = 2.429
    resource_ff_per_acc_bit: float = 3.436
    # --- saturating/rounding accumulators (hls4ml 1.0 used the model type, e.g. AP_RND_ZERO/AP_SAT, as
    # accum_t): per product (Latency) or multiplier (Resource) x accumulator bit. Ratio of sums over
    # the 5 multiplier modules of qconv1d-encoder-12bit (Latency; per module 11.5-12.3, with its adders
    # at width + 7, lut_stream_adder_extra; 11.8 before that term); the Resource encoders, not used in
    # the fit, give 11.0-11.5 (LUT). FF differs by strategy: Resource fitted on
    # qconv1d-encoder-8bit-ku15p (3.34; the a200t encoder at 10 ns gives 2.2-3.0).
    lut_per_saturating_acc_bit: float = 11.55
    ff_per_saturating_acc_bit: float = 0.98
    ff_per_saturating_acc_bit_resource: float = 3.34
    # --- pooling, per comparator (max) or adder (avg) bit: io_parallel from hls4ml's Vitis 2024.1
    # CI baselines (MaxPooling1D/2D 2.45, AveragePooling1D/2D 1.43/1.07 -> 1.25); io_stream per
    # channel bit from the global max pooling of 16 x 16 bit in conv1d-vitis2024 (894 LUT, 528 FF).
    lut_pool_max_per_op_bit: float = 2.45
    lut_pool_avg_per_op_bit: float = 1.25
    lut_pool_stream_per_bit: float = 3.5
    ff_pool_stream_per_bit: float = 2.0
    # io_stream 2D pooling windows (line buffers, window registers, compares) per channel:
    # LUT 100 + 6 x bits, FF 85 + 9.5 x bits (Vivado HLS) or 110 flat (Vitis HLS), read off the
    # pooling2d_cl_array modules of Spehic, Gabriele-bot (3-4 bits), ChiRuiChen's autoencoder (32 bits;
    # Vivado HLS) and Alezander9's cnn_large (16 bits; Vitis HLS 2023.1): within 25 % of 7 modules.
    lut_pool2d_stream_per_channel: float = 100.0
    lut_pool2d_stream_per_channel_bit: float = 6.0
    ff_pool2d_stream_per_channel: float = 85.0
    ff_pool2d_stream_per_channel_bit: float = 9.5
    # --- io_parallel Latency designs register their input array (pooling baselines: FF = input bits + 2)
    ff_per_input_bit: float = 1.0
    # --- io_stream FIFOs. Vivado HLS: one FIFO per channel; a FIFO is a shift register (SRL) while
    # it is at most 16 deep or holds fewer than 512 bits, else block RAM: ceil(bits / 18) BRAM18 per
    # 1,024 words of its depth rounded up to a power of two. Every Vivado FIFO row of the corpus and
    # triples (57 shapes): SRL up to 121 x 4 and 169 x 3 bits, BRAM from 169 x 4 and 25 x 32;
    # 4,356 x 32 bits = 16 BRAM18. Vitis packs a pixel's channels into one FIFO (conv1d-vitis2024).
    fifo_srl_max_depth: int = 16
    fifo_srl_max_bits: int = 512  # Vivado: a FIFO under this many bits stays a shift register at any depth
    fifo_bram_width: int = 18
    fifo_per_channel: bool = True
    fifo_ff_srl: float = 6.0  # per shift-register FIFO (5-10)
    # per BRAM FIFO: its read/write counters and output register, 10 + bits + 2 log2(depth): within
    # 10 % of 29-57 FF for 4-32 bits x 25-784 words (corpus Vivado rows); the deepest (>= 4,096) use more
    fifo_ff_bram_base: float = 10.0
    # LUT per FIFO (Vivado): a shift register takes one SRLC32E per bit per 32 words plus 12 of
    # control (exact on calwilee, quickdraw_gru and toptagging_gru: 252, 517 and 149 FIFOs); a BRAM
    # FIFO 65 + 0.97 per bit (least squares over the BRAM FIFOs of 9 Vivado designs, 1-128 each).
    fifo_lut_srl_control: float = 12.0
    fifo_lut_bram_base: float = 65.0
    fifo_lut_bram_per_bit: float = 0.97
    # Packed Vitis FIFOs size their registers and block RAM to the next power of two of the word width
    # (at most 1,024): FF = per-word x that width + a constant, by kind; block RAMs 36 bits of that
    # width each (80 and 128 bits: 4 BRAM18; 144 and 256: 8). Every Vitis FIFO row of cnn_small,
    # cnn_large (Vitis HLS 2023.1) and conv1d-vitis2024 (2024.1), 18 rows: one or two words
    # (registers) 2 x + 4 (96 -> 260, 130-256 -> 516, 360-384 -> 1,028; 1,264 bits -> 2,058, the one
    # row wider than 1,024); shift registers (3 to 64 deep) 3 x + 19 (404-406 for 128 bits, 781-787
    # for 130-208); block RAM 2 x + 27 (60 for 16 bits, 281 for 80-128, 537-541 for 144-256).
    fifo_pow2_width_cap: int = 1024
    fifo_ff_per_pow2_bit: tuple = (2.0, 3.0, 2.0)  # registers, shift register, block RAM
    fifo_ff_fixed: tuple = (4.0, 19.0, 27.0)
    # LUT (the Vitis reports give it in the FIFO summary row only), per power-of-two bit + 7.5 per
    # FIFO: one or two words 1 (cnn_small's six such FIFOs: 2,349 LUT for 2,304 bits); deeper ones
    # 1.39, between what conv1d-vitis2024 and cnn_large leave for them (1.13 and 1.70 once their
    # registered FIFOs are taken out; their FIFO totals come out +17 % and -9 %)
    fifo_lut_registers_fixed: float = 7.5
    fifo_lut_per_bit: float = 1.39
    # io_parallel designs that hls4ml 1.3 builds as DATAFLOW (a conv stepping over pixel partitions):
    # every element of every array between layers is a depth-2 FIFO. Vivado HLS: 5 FF, bits + 12 LUT
    # (the SRL rule above; calwilee: 252 FIFOs, 1,260 FF, 10,872 LUT); Vitis HLS 2024.1: 99 FF and
    # 67 LUT each for 5-6 bits (MuhammadAshraful mnist_cnn, 2,714 FIFOs: the one Vitis design).
    element_fifo_ff: float = 5.0  # 0: none measured, the tool's FIFO rule for a depth-2 FIFO (fifo_cost)
    element_fifo_lut: float = 0.0  # 0: the SRL rule (bits + 12)
    # io_parallel conv stepping over pixel partitions: hls4ml's generated fill_buffer picks each buffer
    # element's input by partition index (one `if (partition == k)` block per partition), a multiplexer
    # with one input per (buffer element, partition) pair: kernel x channels x output pixels inputs.
    # The HLS tools price a multiplexer at ~4 LUT per input + 17, whatever its width (Multiplexer rows
    # with >= 16 inputs of 7 repositories, Vivado HLS and Vitis HLS: 17 -> 85, 33 -> 149, 67 -> 301;
    # median 4.5 per input). MuhammadAshraful's fill_buffer (6,579 inputs, 31,977 LUT) was not used.
    partition_mux_lut_per_input: float = 4.5
    # ... and at the output: hls4ml's Latency conv stores each partition's results through a pointer it
    # steps inside the pipelined partition loop (`*(res++)`). Vivado HLS (<= 2020.1) builds for every
    # output element a multiplexer over the whole output index range (2^bits inputs) and a 1-bit one
    # beside it: calwilee's separable conv (2020.1) has 72 + 72 cores of 128 inputs in its depthwise
    # (72 outputs) and 180 + 180 of 256 in its pointwise (180 outputs), 686k of its 735k LUT. Priced
    # by the multiplexer rule above. No Vitis HLS report shows them (MuhammadAshraful's 1,352 outputs).
    partition_output_muxes: bool = False
    # io_stream line-buffer convs keep their window in registers (static kernel_data in hls4ml's
    # compute_output_buffer_1d/2d and the depthwise kernels): kernel x live channels x input bits. Their
    # modules' Register rows hold it (Alezander9 cnn_large 439 and 1,413 FF for windows of 144 and 1,152
    # bits; Spehic 1,306 and 2,859 for 144 and 1,152; conv1d-vitis2024 791 for 432), next to the outputs.
    # A 2D conv adds (kernel height - 1) x live channels line buffers, each an ap_shift_reg one padded
    # row deep: priced 64 FF and 16 LUT per 16 words (at least 32) whatever their width, Vivado HLS
    # 2019-2020 and Vitis HLS 2023.1 alike (every line-buffer Memory row of ChiRuiChen, Gabriele-bot,
    # Spehic, Alezander9: 6-28 words of 3-32 bits 64 FF + 32 LUT; 34 words 64 + 48). No deeper row was
    # reported; nothing here says when a row moves to block RAM.
    line_buffer_ff: float = 64.0
    line_buffer_lut_per_16_words: float = 16.0
    stream_cycles_per_pixel: int = 1  # io_stream conv: II per input pixel = RF + this (encoder: 135 for 66+2 pixels)
    # Average pooling whose windows cover different numbers of positions ('same' padding): hls4ml passes
    # each window's count to pool_op, kept as one function instance per output (ALLOCATION). Vivado HLS
    # (<= 2020.1) does not specialise the instances, so each divides by a variable: a pipelined
    # divider per output. hls4ml CI baselines (Vivado 2020.1, 5 ns, xcvu13p), minus the same layers
    # with valid padding: AveragePooling1D same, 183 outputs of 18-bit accumulators, 466 LUT and 718 FF
    # each; AveragePooling2D same, 216 of 20 bits, 473 and 778; 21 cycles both (valid: 0): the register
    # in front of the dividers + 20 in them. Per accumulator bit, the mean of the two. Vitis HLS 2024.1
    # builds none (same baselines: no change).
    avg_pool_divider: bool = False
    avg_pool_divider_lut_per_bit: float = 24.8
    avg_pool_divider_ff_per_bit: float = 39.4
    avg_pool_divider_cycles: int = 20
    # --- activations (io_parallel) -------------------------------------------------------------
    lut_relu_per_bit: float = 1.75  # jet rf1: ReLU on 64 x 16 bit = 1,792 LUT
    # quantized ReLU (round + saturate): jet-qkeras6-pruned75's three ReLU modules, 72.0 LUT per element
    # of 16 bits that the next layer reads, in each (56-65 per element counting the dead ones)
    lut_relu_round_sat_per_input_bit: float = 4.5
    # ... priced per output bit instead, where this is > 0 (Vitis HLS, io_parallel): the 17 rounding
    # ReLU modules of ArgyKokk (2021.1), Alezander9 (2023.1) and max-cohen54 (2024.1), ratio of sums
    # over the elements the next layer reads; one price per design and width (43.0 per element at 8
    # bits in every layer of ArgyKokk's fabric designs, 82.0 at 15 bits for inputs of 19 and 14 bits)
    lut_relu_round_sat_per_output_bit: float = 5.67
    # sigmoid/tanh/ELU tables: index arithmetic per element; median of the six io_parallel sigmoid/ELU
    # CI baselines (Dense(64) + activation, minus the Dense+ReLU design): 57-153 per element
    lut_table_per_element: float = 120.0
    lut_softmax_per_output: float = 130.0  # jet rf1 stable softmax, 5 outputs: 664 LUT
    ff_softmax_per_output: float = 47.0  # same: 236 FF
    bram_width_bits: int = 18  # softmax tables are 18-bit wide (hls4ml default table types)
    # copies of the softmax exp table for m lookups per cycle: "dual_port" ceil(m / 2) (two reads per
    # block RAM), "per_read" max(m - 1, 1) (one copy per read, one copy serving two; TOOL_VERSIONS)
    softmax_exp_copies: str = "dual_port"
    # --- latency ------------------------------------------------------------------------------
    # Latency strategy, per layer (module rows of the jet triples: dense modules take 1 cycle when
    # they use DSPs, 0 when all-LUT; ReLU 0; stable softmax 4) plus one register stage per dense
    # layer at the top level (top latency 13 = 8 in modules + 4 dense layers + 1; pruned 11, 6-bit 9).
    latency_dense_cycles: int = 1  # the register after each dense layer
    latency_dsp_cycles: int = 1  # + this when the layer multiplies in DSPs
    latency_activation_cycles: int = 0  # ReLU, casts, pooling (io_parallel)
    latency_table_cycles: int = 1  # sigmoid/tanh/ELU lookups (CI baselines: Dense+sigmoid 2-3 cycles)
    latency_softmax_cycles: int = 4
    latency_resource_extra_cycles: int = 2  # Resource strategy: RF + this per layer (calibration)
    # io_parallel Resource conv at RF > 1, per pixel partition beyond the kernel's RF + the above (its
    # PartitionLoop is not pipelined): LFADS conv2d_concat (Vivado HLS 2019.2) takes RF + 7 and RF + 9
    # cycles per partition (34 at RF 27, 54 at RF 45; ReuseLoop RF + 1, fill_buffer 1 and 2 cycles).
    # The RF is the one its SOURCE.txt reads off the generated firmware: its shipped config says 1.
    resource_partition_overhead_cycles: int = 6
    # a recurrent layer's step loop (not pipelined: each step reads the state the last one wrote) adds
    # this per step to the cell's call: 40-41 vs 38-39 (toptagging_gru), 163-164 vs 159-160
    # (quickdraw_gru_smaller_reuse), both Vivado HLS 2019
    latency_recurrent_step_cycles: int = 2
    # an io_parallel recurrent layer reads step i's input from the packed input word (steps x inputs
    # x bits wide) by a variable part-select: per input element two shifts, a mask and a select on
    # the whole word. Vivado HLS 2019.2 reports (toptagging_gru 1,920-bit word, quickdraw_gru
    # 4,800-bit): 2,171 LUT per shift at both widths, min(width - 1, 4,096) per mask and select.
    # The two prices are not uw-acme's alone: Vivado HLS prices every variable shift of an 864- to
    # 6,272-bit word at 2,171 LUT and every and/select of one at min(width, 4,096) in four other
    # repositories' Expression rows (deepcalo, yolov3tiny, Gabriele-bot's dense_pynq, LingChiYang's
    # dotproduct: their part-select reads and writes). Two shifts per element (the data and the mask)
    # is read off uw-acme's rows only; the other repositories' reads show one.
    # Below 1,920 bits the shift is assumed to shrink with the word (no report that narrow).
    step_select_shift_lut: float = 2171.0
    step_select_shifts: int = 2
    step_select_shift_measured_bits: int = 1920
    step_select_word_lut_cap: float = 4096.0
    # io_stream Resource: a conv's dense kernel runs once per pixel, not overlapped: RF + this per
    # pixel (qconv1d-encoder-8bit-ku15p module rows: 884 cycles for 68 pixels at RF 2)
    stream_resource_cycles_per_pixel: int = 11


VIVADO = CostConstants()
# Vitis HLS packs a stream's array into one FIFO (36-bit wide BRAM words: 128 x 256 bit = 8 BRAM18 in
# conv1d-vitis2024) and needs 2 cycles more per pixel (II 390 for 130 padded pixels at RF 1).
VITIS = replace(VIVADO, fifo_per_channel=False, fifo_bram_width=36, stream_cycles_per_pixel=2,
                # Vitis FIFOs stay shift registers up to 48 deep (24 x 208, 48 x 128 bits) and use
                # block RAM from 104 deep (104 x 80, 150 x 16): corpus and conv1d-vitis2024 rows
                fifo_srl_max_depth=64, fifo_srl_max_bits=0, element_fifo_ff=99.0, element_fifo_lut=67.0,
                ff_pool2d_stream_per_channel=110.0, ff_pool2d_stream_per_channel_bit=0.0)

BACKENDS = {"Vivado": VIVADO, "Vitis": VITIS}
# FIFOs are what the HLS tool builds from hls::stream and DATAFLOW channels, whichever backend's code it
# compiles: a Vivado-backend project built by Vitis HLS (MuhammadAshraful's mnist_cnn: 2,714 depth-2
# element FIFOs of 99 FF each) gets the Vitis tool's FIFOs.
TOOL_FIFO_FIELDS = ("fifo_per_channel", "fifo_bram_width", "fifo_srl_max_depth", "fifo_srl_max_bits",
                    "element_fifo_ff", "element_fifo_lut")
TOOL_BACKEND = {"Vivado HLS": "Vivado", "Vitis HLS": "Vitis"}


@dataclass(frozen=True)
class ToolVersions:
    """A range of HLS tool versions whose behaviour differs from the default constants, where the
    reports show it; ``changes`` are the CostConstants that differ, ``source`` the reports."""

    family: str
    first: str
    last: str
    changes: dict
    source: str

    def covers(self, version: str) -> bool:
        key = lambda v: tuple(int(x) for x in v.split(".")[:2])  # noqa: E731
        return key(self.first) <= key(version) <= key(self.last)


#: the tool-version axis. Only behaviour a report shows is here; everything else is shared.
TOOL_VERSIONS: tuple[ToolVersions, ...] = (
    ToolVersions("Vivado HLS", "2017.1", "2020.1", {"resource_dsp_rule": "operand_bits",
                                                    "resource_dsp_pack_two_max_operand_bits": 8,
                                                    "resource_lut_multipliers": True, "resource_lut_accumulators": True,
                                                    "serialize_all_products": True,
                                                    "avg_pool_divider": True, "lut_adder_scale": 1.0,
                                                    "partition_output_muxes": True,
                                                    "lut_relu_round_sat_per_output_bit": 0.0, "lut_stream_adder_extra": 7.0},
                 "corpus Spehic (Vivado HLS 2020.1, Resource, 4-bit weights): 4 x 16-bit products one DSP each (4 of 4 "
                 "multipliers), 4 x 4-bit two per DSP (64 for 128, 256 for 512); Gabriele-bot (2020.1): 5 x 3, 4 x 3 and "
                 "4 x 2 bits on none (both designs: the narrower operand decides); ftag_gru (2019.2): signed 4 x 4 bits "
                 "(an 8-bit product, against Spehic's 9-bit unsigned x signed) in LUTs (LUT within 10 % of its report as "
                 "LUT multipliers, 867 DSPs against 123 reported as packed ones), and their LUTs need those multipliers "
                 "(LUT 17k -> 64k and 25k -> 79k of 126k and 155k reported; the 155k report is of another network). Their "
                 "adds into the accumulators are LUT adders too: Gabriele-bot's CNN 68k -> 92k of 126k, Spehic 52k -> 63k "
                 "of 101k (ftag_gru 121k -> 128k of 123k). Issue #10: 6-bit weights at Resource "
                 "used 13-19 DSPs in Vivado HLS 2019.2. Latency at RF > 1 serializes every nonzero product "
                 "(jet-qkeras6 pynq-z2 RF 64: 52 cycles), where Vitis 2021.1 serializes only the >= 3-CSD-digit ones "
                 "(ArgyKokk CARDIO RF 100: 58 cycles). Average pooling with 'same' padding divides by a variable in every "
                 "output's pool_op instance (hls4ml CI baselines, Vivado 2020.1: 89,529 and 112,578 LUT, 21 cycles, "
                 "where valid padding and Vitis 2024.1 take 4-11k and 0 cycles). A Latency io_parallel conv stepping over "
                 "pixel partitions multiplexes each output element's write (calwilee, 2020.1: 504 cores of 128 and 256 "
                 "inputs, one data and one 1-bit per output element). A rounding, saturating ReLU costs 4.5 LUT per "
                 "input bit (jet-qkeras6: 72.0 per element from 16 bits, to 6), where Vitis HLS's cost 5.67 per output bit. "
                 "An io_stream design's adders cost width + 7 LUT (all of Gabriele-bot's CNN, the encoders and "
                 "quickdraw_gru_smaller_reuse; most of ChiRuiChen's and Spehic's), its io_parallel ones width + 0"),
    ToolVersions("Vitis HLS", "2020.2", "2022.2", {"softmax_exp_copies": "per_read", "lut_adder_scale": 1.0},
                 "ArgyKokk's six io_parallel softmaxes (Vitis HLS 2021.1, 2-16 outputs): the exp table takes "
                 "1, 2, 4, 5, 9, 15 BRAM18 for 2, 3, 5, 6, 10, 16 lookups (its memory table; 1,024 x 18 bits each), "
                 "one copy per read with one copy serving two, where Vivado HLS (Gabriele-bot 2020.1: 5 for 10, "
                 "quickdraw_gru 2019.2: 3 for 5) and Vitis HLS 2024.1 (conv1d-vitis2024: 3 for 6) read two per copy. "
                 "Where between 2021.1 and 2024.1 this changed no report shows: 2022 is assigned here by choice. "
                 "Adders priced as Vivado HLS's (ArgyKokk's Expression rows: 1.047 LUT per bit; the triples' 1.046). "
                 "Otherwise as the next entry"),
    ToolVersions("Vitis HLS", "2023.1", "2025.2", {},
                 "wa-hls4ml calibration sample (Vitis HLS 2023.2, Resource): 8-bit weights on DSPs, 6-bit ones not; "
                 "adders at 1.268 LUT per bit in 5 repositories' Expression rows (lut_adder_scale)"),
)
TOOL_FAMILIES = tuple(dict.fromkeys(t.family for t in TOOL_VERSIONS))


def parse_tool(tool: str) -> tuple[str, str | None]:
    """("Vitis HLS", "2023.1") from "Vitis HLS 2023.1", "vitis_hls 2023.1" or "Vitis HLS"."""
    import re

    text = tool.strip().replace("_", " ")
    m = re.match(r"^(vivado hls|vitis hls)\s*(\d{4}(?:\.\d+)*)?$", text, re.I)
    if not m:
        raise ValueError(tool)
    family = next(f for f in TOOL_FAMILIES if f.lower() == m.group(1).lower())
    return family, m.group(2)


def tool_versions(tool: str | None) -> tuple[ToolVersions | None, str | None]:
    """(the registry entry for ``tool``, a note when the version lies outside what the reports
    cover); (None, None) when the tool is unknown (the default constants: Vitis HLS behaviour).
    An unknown tool family raises ValueError: no silent fallback to another tool's constants."""
    if not tool:
        return None, None
    family, version = parse_tool(tool)
    entries = [t for t in TOOL_VERSIONS if t.family == family]
    if version:
        hit = next((t for t in entries if t.covers(version)), None)
        if hit:
            return hit, None
        nearest = entries[-1] if version > entries[-1].last else entries[0]
        return nearest, (f"{family} {version} is outside the versions the reports cover ({nearest.first}-{nearest.last}); "
                         "their constants are used")
    return entries[-1], f"{family} version unknown: the constants of {entries[-1].first}-{entries[-1].last} are used"


def tool_builder(backend: str, tool: str | None) -> str:
    """The backend whose FIFO behaviour ``tool`` has ("Vitis" for any Vitis HLS); ``backend`` when the tool is unknown."""
    return TOOL_BACKEND[parse_tool(tool)[0]] if tool else backend


def constants_for(backend: str, part: str | None = None, tool: str | None = None,
                  mul_impl: str | None = None) -> CostConstants:
    """Constants of ``backend`` as built by ``tool`` ("Vivado HLS 2020.1"; None: the default, Vitis
    HLS behaviour), with the DSP port width of ``part``'s family (7-series: DSP48E1) and the
    ``config_op mul -impl`` directive (``mul_impl``: "dsp", "fabric" or None)."""
    c = BACKENDS.get(backend, VIVADO)
    builder = tool_builder(backend, tool)
    if builder != backend and backend in BACKENDS:
        c = replace(c, **{f: getattr(BACKENDS[builder], f) for f in TOOL_FIFO_FIELDS})
    if mul_impl == "dsp":
        c = replace(c, mul_impl="dsp", dsp_min_input_bits=1, dsp_min_wider_operand_bits=1, resource_dsp_rule="operand_bits",
                    resource_dsp_min_operand_bits=1,
                    resource_dsp_min_product_bits=0)
    elif mul_impl == "fabric":
        c = replace(c, mul_impl="fabric")
    elif mul_impl:
        raise ValueError(f"unknown mul_impl {mul_impl!r}; use 'dsp' or 'fabric'")
    entry, _ = tool_versions(tool)
    if entry is not None and entry.changes:
        c = replace(c, **entry.changes)
    if c.lut_adder_scale != 1.0:  # the tool's adder price, once, into every adder term (dense, merge, BN, savings)
        c = replace(c, lut_per_tree_bit=c.lut_per_tree_bit * c.lut_adder_scale,
                    lut_per_tree_adder_bit=c.lut_per_tree_adder_bit * c.lut_adder_scale,
                    lut_per_shift_add_bit=c.lut_per_shift_add_bit * c.lut_adder_scale, lut_adder_scale=1.0)
    if part and part.lower().startswith("xc7"):
        c = replace(c, dsp_a_bits=25)
    return c
