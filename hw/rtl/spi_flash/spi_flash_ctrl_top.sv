`default_nettype none
// SPI flash controller: the generated register block (hw/regs/spi_flash_ctrl.rdl) in front of an
// SPI master for the board's configuration flash, so the host updates the flash through a BAR.
//
// Each byte is one LOW and one HIGH phase per bit, each div+1 clocks long. MOSI changes with the
// falling SCK edge (a byte starts with one, even in mode 0 where SCK already idles low) and MISO is
// sampled in the last clock of the HIGH phase rather than at the rising edge: the flash drives MISO
// some nanoseconds after the falling edge before, and the late sample leaves the whole high phase
// for that delay and the board's round trip. Mode 3 only changes the level SCK idles at.
//
// Written for a small FPGA (an iCE40 UP5K at 48 MHz and more): both FIFOs are block RAM, one byte in
// and one out per clock, so a register access that moves four bytes takes a clock per byte before
// its answer; and the start of a byte, the latest decision of the clock, feeds only flops of the
// shift engine, everything it takes from the FIFO and the filler count being taken a clock later.
module spi_flash_ctrl_top #(
  parameter int unsigned FIFO_DEPTH = 64  // bytes per FIFO; a power of two from 4 to 128
) (
  input  wire logic        clk_i,
  input  wire logic        rst_ni,
  // AXI4-Lite slave (the BAR window of the controller)
  input  wire logic [spi_flash_ctrl_reg_pkg::SPI_FLASH_CTRL_ADDR_WIDTH-1:0] s_axil_awaddr_i,
  input  wire logic        s_axil_awvalid_i,
  output logic             s_axil_awready_o,
  input  wire logic [31:0] s_axil_wdata_i,
  input  wire logic [3:0]  s_axil_wstrb_i,
  input  wire logic        s_axil_wvalid_i,
  output logic             s_axil_wready_o,
  output logic [1:0]       s_axil_bresp_o,
  output logic             s_axil_bvalid_o,
  input  wire logic        s_axil_bready_i,
  input  wire logic [spi_flash_ctrl_reg_pkg::SPI_FLASH_CTRL_ADDR_WIDTH-1:0] s_axil_araddr_i,
  input  wire logic        s_axil_arvalid_i,
  output logic             s_axil_arready_o,
  output logic [31:0]      s_axil_rdata_o,
  output logic [1:0]       s_axil_rresp_o,
  output logic             s_axil_rvalid_o,
  input  wire logic        s_axil_rready_i,
  // SPI flash pins
  output logic             spi_sck_o,
  output logic             spi_cs_no,
  output logic             spi_mosi_o,
  input  wire logic        spi_miso_i
);
  localparam int unsigned LW = $clog2(FIFO_DEPTH) + 1;  // level width

  spi_flash_ctrl_reg_pkg::spi_flash_ctrl_reg2hw_t reg2hw;
  spi_flash_ctrl_reg_pkg::spi_flash_ctrl_hw2reg_t hw2reg;

  spi_flash_ctrl_reg_top u_regs (
    .clk_i            (clk_i),
    .rst_ni           (rst_ni),
    .s_axil_awaddr_i  (s_axil_awaddr_i),
    .s_axil_awvalid_i (s_axil_awvalid_i),
    .s_axil_awready_o (s_axil_awready_o),
    .s_axil_wdata_i   (s_axil_wdata_i),
    .s_axil_wstrb_i   (s_axil_wstrb_i),
    .s_axil_wvalid_i  (s_axil_wvalid_i),
    .s_axil_wready_o  (s_axil_wready_o),
    .s_axil_bresp_o   (s_axil_bresp_o),
    .s_axil_bvalid_o  (s_axil_bvalid_o),
    .s_axil_bready_i  (s_axil_bready_i),
    .s_axil_araddr_i  (s_axil_araddr_i),
    .s_axil_arvalid_i (s_axil_arvalid_i),
    .s_axil_arready_o (s_axil_arready_o),
    .s_axil_rdata_o   (s_axil_rdata_o),
    .s_axil_rresp_o   (s_axil_rresp_o),
    .s_axil_rvalid_o  (s_axil_rvalid_o),
    .s_axil_rready_i  (s_axil_rready_i),
    .reg2hw_o         (reg2hw),
    .hw2reg_i         (hw2reg)
  );

  // ---- FIFOs (block RAM; one byte in and one out per clock) ----
  logic          tx_push, tx_pop, tx_valid, rx_push, rx_pop, rx_valid;
  logic          tx_empty, tx_full, tx_high, rx_empty, rx_full, rx_high;
  logic [7:0]    tx_push_data, tx_head, rx_head;
  logic [LW-1:0] tx_level, rx_level;

  spi_flash_fifo #(.DEPTH(FIFO_DEPTH)) u_tx_fifo (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .push_i       (tx_push),
    .push_data_i  (tx_push_data),
    .pop_i        (tx_pop),
    .head_o       (tx_head),
    .head_valid_o (tx_valid),
    .level_o      (tx_level),
    .empty_o      (tx_empty),
    .full_o       (tx_full),
    .high_o       (tx_high)
  );

  // ---- the bus side of the FIFOs: external registers, answered once their bytes have moved ----
  // The register block holds a request (we/re with its data) until it is acked, so a register
  // access that moves several bytes takes a clock per byte: the first clock decides what the
  // access moves, the next ones move a byte each, and the ack comes from flops only.

  // Transmit: tx_data4 queues its strobed bytes, lowest lane first, tx_data1 its byte 0; a write
  // whose bytes do not all fit is dropped whole. The first clock takes the lanes, the second
  // checks the room (only the shift engine takes bytes meanwhile, which makes room), the next ones
  // queue a byte each.
  function automatic logic at_most_one(logic [3:0] v);
    at_most_one = !(v[0] && v[1] || v[0] && v[2] || v[0] && v[3] || v[1] && v[2] || v[1] && v[3] || v[2] && v[3]);
  endfunction
  function automatic logic at_most_two(logic [3:0] v);
    at_most_two = !(v[0] && v[1] && v[2] || v[0] && v[1] && v[3] || v[0] && v[2] && v[3] || v[1] && v[2] && v[3]);
  endfunction

  typedef enum logic [1:0] {TxIdle, TxCheck, TxQueue} tx_state_e;
  tx_state_e   tx_state_q, tx_state_d;
  logic        tx_req;                 // a write of tx_data4 or tx_data1 is up
  logic [3:0]  tx_lanes_q, tx_lanes_d;  // lanes of the write still to queue
  logic        tx_lanes_le1, tx_lanes_le2, tx_lanes_le3;  // at most 1, 2, 3 lanes are left
  logic        tx_fits;
  logic [1:0]  tx_lane;                 // the lowest lane still to queue
  logic [31:0] tx_wdata;
  logic        tx_ack_q, tx_ack_d;       // the write is done: its last byte is queued in this clock
  assign tx_req   = reg2hw.tx_data4.we || reg2hw.tx_data1.we;
  assign tx_wdata = reg2hw.tx_data4.we ? reg2hw.tx_data4.wdata : reg2hw.tx_data1.wdata;
  // Counting the lanes and adding them to the level would put two carry chains in one clock; four
  // lanes only need these tests against the room left when the level is within four of full
  // (level bits LW-2:2 all ones), where that room is 4 - level[1:0].
  assign tx_lanes_le1 = at_most_one(tx_lanes_q);
  assign tx_lanes_le2 = at_most_two(tx_lanes_q);
  assign tx_lanes_le3 = tx_lanes_q != 4'hf;
  logic tx_near_full;  // level bits LW-2:2 all ones: the level is within four of full
  if (LW > 3) begin : gen_near_full
    assign tx_near_full = &tx_level[LW-2:2];
  end else begin : gen_near_full_depth4
    assign tx_near_full = 1'b1;  // FIFO_DEPTH 4: always
  end
  always_comb begin
    if (tx_level[LW-1]) begin
      tx_fits = tx_lanes_q == '0;
    end else if (!tx_near_full) begin
      tx_fits = 1'b1;
    end else begin
      unique case (tx_level[1:0])
        2'd0:    tx_fits = 1'b1;
        2'd1:    tx_fits = tx_lanes_le3;
        2'd2:    tx_fits = tx_lanes_le2;
        default: tx_fits = tx_lanes_le1;
      endcase
    end
  end
  // The ack is a flop (it feeds the register block's decode), set for the clock that queues the
  // last lane: at once after a check that drops the write or leaves one lane, else once a queued
  // lane leaves one.
  assign tx_ack_d = tx_state_q == TxCheck ? !tx_fits || tx_lanes_le1
                  : tx_state_q == TxQueue && !tx_ack_q && tx_lanes_le2;

  always_comb begin
    tx_lane = 2'd0;
    for (int k = 3; k >= 0; k--) begin
      if (tx_lanes_q[k]) tx_lane = 2'(k);
    end
  end

  always_comb begin
    tx_state_d   = tx_state_q;
    tx_lanes_d   = tx_lanes_q;
    tx_push      = 1'b0;
    tx_push_data = tx_wdata[8*tx_lane +: 8];
    unique case (tx_state_q)
      TxIdle: begin
        if (tx_req) begin
          tx_state_d = TxCheck;
          tx_lanes_d = reg2hw.tx_data4.we ? reg2hw.tx_data4.be : {3'b000, reg2hw.tx_data1.be[0]};
        end
      end
      TxCheck: begin
        tx_state_d = TxQueue;
        if (!tx_fits) tx_lanes_d = '0;
      end
      TxQueue: begin
        tx_push    = tx_lanes_q != '0;
        tx_lanes_d = tx_lanes_q & ~(4'b0001 << tx_lane);  // the lowest lane is queued
        if (tx_ack_q) tx_state_d = TxIdle;
      end
      default: tx_state_d = TxIdle;
    endcase
  end

  // Receive: rx_data4 takes up to four bytes, rx_data1 one, as many as the FIFO holds in the
  // access's first clock (only these reads take bytes, so they stay there); lanes past them read 0.
  logic        rx_req;
  logic        rx_active_q, rx_active_d;
  logic [2:0]  rx_left_q, rx_left_d;   // bytes still to take
  logic [1:0]  rx_lane_q, rx_lane_d;   // lane the next one goes to
  logic [31:0] rx_word_q, rx_word_d;
  logic [2:0]  rx_have4, rx_have1;  // what rx_data4 and rx_data1 would take now
  logic        rx_ack_q, rx_ack_d;  // all bytes are taken: the read is answered in this clock
  assign rx_req  = reg2hw.rx_data4.re || reg2hw.rx_data1.re;
  // min(level, 4) and min(level, 1) as bit tests of the level rather than comparisons.
  assign rx_have4 = |rx_level[LW-1:2] ? 3'd4 : {1'b0, rx_level[1:0]};
  assign rx_have1 = {2'b00, !rx_empty};

  always_comb begin
    rx_active_d = rx_active_q;
    rx_left_d   = rx_left_q;
    rx_lane_d   = rx_lane_q;
    rx_word_d   = rx_word_q;
    rx_pop      = 1'b0;
    if (!rx_active_q) begin
      if (rx_req) begin
        rx_active_d = 1'b1;
        rx_left_d   = reg2hw.rx_data4.re ? rx_have4 : rx_have1;
        rx_lane_d   = '0;
        rx_word_d   = '0;
      end
    end else if (rx_ack_q) begin
      rx_active_d = 1'b0;
    end else if (rx_valid) begin
      rx_pop                      = 1'b1;
      rx_word_d[8*rx_lane_q +: 8] = rx_head;
      rx_lane_d                   = rx_lane_q + 2'd1;
      rx_left_d                   = rx_left_q - 3'd1;
    end
  end
  assign rx_ack_d = rx_active_d && rx_left_d == '0;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      tx_state_q  <= TxIdle;
      tx_lanes_q  <= '0;
      tx_ack_q    <= 1'b0;
      rx_active_q <= 1'b0;
      rx_ack_q    <= 1'b0;
      rx_left_q   <= '0;
      rx_lane_q   <= '0;
      rx_word_q   <= '0;
    end else begin
      tx_state_q  <= tx_state_d;
      tx_lanes_q  <= tx_lanes_d;
      tx_ack_q    <= tx_ack_d;
      rx_active_q <= rx_active_d;
      rx_ack_q    <= rx_ack_d;
      rx_left_q   <= rx_left_d;
      rx_lane_q   <= rx_lane_d;
      rx_word_q   <= rx_word_d;
    end
  end

  assign hw2reg.tx_data4.ack   = tx_ack_q;
  assign hw2reg.tx_data4.rdata = 32'h0;
  assign hw2reg.tx_data1.ack   = tx_ack_q;
  assign hw2reg.tx_data1.rdata = 32'h0;
  assign hw2reg.rx_data4.ack   = rx_ack_q;
  assign hw2reg.rx_data4.rdata = rx_word_q;
  assign hw2reg.rx_data1.ack   = rx_ack_q;
  assign hw2reg.rx_data1.rdata = rx_word_q;

  // ---- the shift engine ----
  typedef enum logic [1:0] {StIdle, StLow, StHigh} state_e;
  state_e     state_q, state_d;
  logic [7:0] div_cnt_q, div_cnt_d;    // clocks left in this phase, minus one
  logic       cnt_zero_q, cnt_zero_d;  // div_cnt_q == 0: the phase ends this clock
  logic [2:0] bit_q, bit_d;            // bit of the byte on the wire, 7 first
  logic [7:0] shift_q, shift_d;        // MOSI from bit 7 out, MISO into bit 0
  logic       sck_q, sck_d;

  logic        cs, cpol, rx_en;
  logic [7:0]  div;
  logic [15:0] filler_left;
  assign cs          = reg2hw.ctrl.cs.q;
  assign cpol        = reg2hw.ctrl.cpol.q;
  assign rx_en       = reg2hw.ctrl.rx_en.q;
  assign div         = reg2hw.ctrl.div.q;
  assign filler_left = reg2hw.rx_clock.count.q;

  // The phase counter reloads div when a phase ends and all the time while idle (every byte starts
  // from idle or from the end of a byte), so it does not wait for the start decision, the latest
  // signal of the clock; its zero test is a flop of its own.
  logic reload;
  assign reload     = state_q == StIdle || cnt_zero_q;
  assign div_cnt_d  = reload ? div : div_cnt_q - 8'd1;
  assign cnt_zero_d = reload ? div == '0 : div_cnt_q == 8'd1;

  // The last bit's HIGH phase is known a phase ahead (bit 7 enters it from its LOW phase), so the
  // end of a byte is two flops ANDed.
  logic last_q, last_d;  // in the HIGH phase of bit 7
  assign last_d = bit_q == 3'd7 && (state_q == StLow ? cnt_zero_q : state_q == StHigh && !cnt_zero_q);

  logic       byte_done;   // the last bit of a byte is sampled this clock
  logic       tx_waiting;  // bytes are queued: they go before any filler byte
  logic       have_byte;   // a byte to send: the queued one can be read, or a filler byte is due
  logic       start;       // a byte goes on the wire from the next clock
  logic [7:0] rx_byte;
  assign byte_done  = last_q && cnt_zero_q;
  assign rx_push    = byte_done && rx_en;
  assign rx_byte    = {shift_q[6:0], spi_miso_i};
  assign tx_waiting = !tx_empty;
  // A queued byte goes only once the FIFO can give it (one clock after a push into an empty FIFO).
  // Whether filler bytes are due is a flop too, a clock behind rx_clock: a byte lasts 16 clocks
  // or more, so at the end of one it has long seen the count that byte's own start decremented.
  logic filler_due_q;
  assign have_byte  = cs && (tx_waiting ? tx_valid : filler_due_q);
  // A byte starts only if its received byte will have room: from idle while the receive FIFO is not
  // full, at the end of a byte (which keeps its own received byte) while it has two free places.
  // The next byte follows the last without a gap while there is more to send.
  assign start = have_byte && (state_q == StIdle ? !(rx_en && rx_full) : byte_done && !(rx_en && rx_high));

  // What a start takes (the transmitted byte, or one filler byte off the count) is taken a clock
  // later, from flops: the start decision is the latest signal of the clock, and the FIFO pointers,
  // flags and the count need not wait for it. Nothing looks at them in between: the byte just
  // started holds the engine for 16 clocks or more, and the status registers are a clock behind.
  logic tx_pop_q, filler_take_q;
  always_comb begin
    state_d     = state_q;
    bit_d       = bit_q;
    shift_d     = shift_q;
    sck_d       = sck_q;
    unique case (state_q)
      StIdle: sck_d = cpol;
      StLow: begin
        if (cnt_zero_q) begin
          state_d = StHigh;
          sck_d   = 1'b1;
        end
      end
      StHigh: begin
        if (cnt_zero_q) begin
          shift_d = rx_byte;
          bit_d   = bit_q + 3'd1;
          state_d = bit_q == 3'd7 ? StIdle : StLow;
          sck_d   = bit_q == 3'd7 ? cpol : 1'b0;
        end
      end
      default: state_d = StIdle;
    endcase
    if (start) begin
      shift_d = tx_waiting ? tx_head : 8'h00;
      bit_d   = 3'd0;
      state_d = StLow;
      sck_d   = 1'b0;
    end
  end
  assign tx_pop = tx_pop_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q    <= StIdle;
      div_cnt_q  <= '0;
      cnt_zero_q <= 1'b1;
      last_q     <= 1'b0;
      filler_due_q <= 1'b0;
      tx_pop_q     <= 1'b0;
      filler_take_q <= 1'b0;
      bit_q      <= '0;
      shift_q    <= '0;
      sck_q      <= 1'b0;
    end else begin
      state_q    <= state_d;
      div_cnt_q  <= div_cnt_d;
      cnt_zero_q <= cnt_zero_d;
      last_q     <= last_d;
      filler_due_q <= filler_left != '0;
      tx_pop_q     <= start && tx_waiting;
      filler_take_q <= start && !tx_waiting;
      bit_q      <= bit_d;
      shift_q    <= shift_d;
      sck_q      <= sck_d;
    end
  end

  spi_flash_fifo #(.DEPTH(FIFO_DEPTH)) u_rx_fifo (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .push_i       (rx_push),
    .push_data_i  (rx_byte),
    .pop_i        (rx_pop),
    .head_o       (rx_head),
    .head_valid_o (rx_valid),
    .level_o      (rx_level),
    .empty_o      (rx_empty),
    .full_o       (rx_full),
    .high_o       (rx_high)
  );

  // ---- status back to the register block ----
  assign hw2reg.version.fifo_depth.d  = 16'(FIFO_DEPTH);
  assign hw2reg.version.fifo_depth.de = 1'b1;
  assign hw2reg.status.busy.d         = state_q != StIdle || tx_waiting || filler_left != '0;
  assign hw2reg.status.busy.de        = 1'b1;
  assign hw2reg.status.tx_level.d     = 8'(tx_level);
  assign hw2reg.status.tx_level.de    = 1'b1;
  assign hw2reg.status.rx_level.d     = 8'(rx_level);
  assign hw2reg.status.rx_level.de    = 1'b1;
  assign hw2reg.rx_clock.count.d      = filler_left - 16'd1;
  assign hw2reg.rx_clock.count.de     = filler_take_q;

  // ---- pins: every one from a flop ----
  assign spi_sck_o  = sck_q;
  assign spi_cs_no  = !cs;
  assign spi_mosi_o = shift_q[7];

  // Request fields the design has no use for (reads of write-only and writes of read-only registers
  // never come; tx_data1 queues only its byte 0), and FIFO flags only the other side needs.
  logic unused;
  assign unused = ^{tx_full, tx_high, rx_empty, reg2hw.tx_data4.re, reg2hw.tx_data1.re, reg2hw.tx_data1.be[3:1],
                    reg2hw.rx_data4.we, reg2hw.rx_data4.wdata, reg2hw.rx_data4.be,
                    reg2hw.rx_data1.we, reg2hw.rx_data1.wdata, reg2hw.rx_data1.be};

`ifndef SYNTHESIS
  initial assert (FIFO_DEPTH >= 4 && FIFO_DEPTH <= 128) else $fatal(1, "spi_flash_ctrl_top: FIFO_DEPTH must be 4 to 128");
  // The register block asks one external register at a time and holds the request until the ack;
  // an access in progress here always has its request up.
  ExtOneRequestAtATime: assert property (@(posedge clk_i) disable iff (!rst_ni)
    $onehot0({reg2hw.tx_data4.we, reg2hw.tx_data1.we, reg2hw.rx_data4.re, reg2hw.rx_data1.re}));
  TxAccessHasRequest: assert property (@(posedge clk_i) disable iff (!rst_ni) tx_state_q != TxIdle |-> tx_req);
  RxAccessHasRequest: assert property (@(posedge clk_i) disable iff (!rst_ni) rx_active_q |-> rx_req);
  // An accepted write always fits, and a read always finds the bytes it counted: each clock of an
  // access moves a byte until the ack, so every access ends within six clocks.
  TxQueuedFits: assert property (@(posedge clk_i) disable iff (!rst_ni)
    tx_state_q == TxQueue && tx_lanes_q != '0 |-> 32'(tx_level) < FIFO_DEPTH);
  // The room test above is level + lanes <= FIFO_DEPTH.
  TxFitsIsRoom: assert property (@(posedge clk_i) disable iff (!rst_ni)
    tx_state_q == TxCheck |-> tx_fits == (32'(tx_level) + 32'($countones(tx_lanes_q)) <= FIFO_DEPTH));
  AckFlagsMatch: assert property (@(posedge clk_i) disable iff (!rst_ni)
    tx_ack_q == (tx_state_q == TxQueue && tx_lanes_le1) && rx_ack_q == (rx_active_q && rx_left_q == '0));
  RxCountIsMin: assert property (@(posedge clk_i) disable iff (!rst_ni)
    rx_have4 == 3'(32'(rx_level) < 4 ? 32'(rx_level) : 4) && rx_have1 == 3'(rx_level != '0));
  RxCountedBytesThere: assert property (@(posedge clk_i) disable iff (!rst_ni)
    rx_active_q && rx_left_q != '0 |-> rx_valid);
  // The zero flag of the phase counter is the counter's own zero test, one register apart.
  PhaseZeroFlagMatches: assert property (@(posedge clk_i) disable iff (!rst_ni) cnt_zero_q == (div_cnt_q == '0));
  // A filler byte starts only while the count is not zero.
  FillerOnlyWhenDue: assert property (@(posedge clk_i) disable iff (!rst_ni) filler_take_q |-> filler_left != '0);
  LastBitFlagMatches: assert property (@(posedge clk_i) disable iff (!rst_ni) last_q == (state_q == StHigh && bit_q == 3'd7));
  // A byte that keeps what it receives always finds room (the FIFO asserts it too, as overflow).
  ReceivedByteHasRoom: assert property (@(posedge clk_i) disable iff (!rst_ni) rx_push |-> !rx_full);
  // Every output is known once out of reset.
  PinsKnown: assert property (@(posedge clk_i) disable iff (!rst_ni)
    !$isunknown({spi_sck_o, spi_cs_no, spi_mosi_o}));
`endif
endmodule
`default_nettype wire
