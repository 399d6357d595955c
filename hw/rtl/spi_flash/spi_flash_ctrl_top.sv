`default_nettype none
// SPI flash controller: the generated register block (hw/regs/spi_flash_ctrl.rdl) in front of an
// SPI master for the board's configuration flash, so the host updates the flash through a BAR.
//
// Each byte is one LOW and one HIGH phase per bit, each div+1 clocks long. MOSI changes with the
// falling SCK edge (a byte starts with one, even in mode 0 where SCK already idles low) and MISO is
// sampled in the last clock of the HIGH phase rather than at the rising edge: the flash drives MISO
// some nanoseconds after the falling edge before, and the late sample leaves the whole high phase
// for that delay and the board's round trip. Mode 3 only changes the level SCK idles at.
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

  // ---- FIFOs ----
  logic [2:0]    tx_push_n, tx_pop_n, rx_push_n, rx_pop_n;
  logic [31:0]   tx_push_data, tx_peek, rx_peek;
  logic [LW-1:0] tx_level, rx_level;

  spi_flash_fifo #(.DEPTH(FIFO_DEPTH)) u_tx_fifo (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .push_n_i    (tx_push_n),
    .push_data_i (tx_push_data),
    .pop_n_i     (tx_pop_n),
    .peek_o      (tx_peek),
    .level_o     (tx_level)
  );

  // ---- the bus side of the FIFOs: external registers, answered in the clock they are asked ----
  // A write queues its strobed bytes, lowest lane first; it is dropped whole if they do not fit.
  logic [2:0]  tx_write_n;
  logic [31:0] tx_write_data;
  always_comb begin
    tx_write_n    = '0;
    tx_write_data = '0;
    if (reg2hw.tx_data4.we) begin
      for (int unsigned k = 0; k < 4; k++) begin
        if (reg2hw.tx_data4.be[k]) begin
          tx_write_data[8*tx_write_n +: 8] = reg2hw.tx_data4.wdata[8*k +: 8];
          tx_write_n = tx_write_n + 3'd1;
        end
      end
    end else if (reg2hw.tx_data1.we && reg2hw.tx_data1.be[0]) begin
      tx_write_data[7:0] = reg2hw.tx_data1.wdata[7:0];
      tx_write_n = 3'd1;
    end
    tx_push_n    = 32'(tx_level) + 32'(tx_write_n) <= FIFO_DEPTH ? tx_write_n : 3'd0;
    tx_push_data = tx_write_data;
  end

  // A read takes what it returns: four bytes (fewer if the FIFO holds fewer) or one.
  always_comb begin
    rx_pop_n = '0;
    if (reg2hw.rx_data4.re) rx_pop_n = 32'(rx_level) < 4 ? 3'(rx_level) : 3'd4;
    else if (reg2hw.rx_data1.re) rx_pop_n = rx_level != '0 ? 3'd1 : 3'd0;
  end

  assign hw2reg.tx_data4.ack   = 1'b1;
  assign hw2reg.tx_data4.rdata = 32'h0;
  assign hw2reg.tx_data1.ack   = 1'b1;
  assign hw2reg.tx_data1.rdata = 32'h0;
  assign hw2reg.rx_data4.ack   = 1'b1;
  assign hw2reg.rx_data4.rdata = rx_peek;
  assign hw2reg.rx_data1.ack   = 1'b1;
  assign hw2reg.rx_data1.rdata = {24'h0, rx_peek[7:0]};

  // ---- the shift engine ----
  typedef enum logic [1:0] {StIdle, StLow, StHigh} state_e;
  state_e     state_q, state_d;
  logic [7:0] div_cnt_q, div_cnt_d;  // clocks left in this phase, minus one
  logic [2:0] bit_q, bit_d;          // bit of the byte on the wire, 7 first
  logic [7:0] shift_q, shift_d;      // MOSI from bit 7 out, MISO into bit 0
  logic       sck_q, sck_d;

  logic        cs, cpol, rx_en;
  logic [7:0]  div;
  logic [15:0] filler_left;
  assign cs          = reg2hw.ctrl.cs.q;
  assign cpol        = reg2hw.ctrl.cpol.q;
  assign rx_en       = reg2hw.ctrl.rx_en.q;
  assign div         = reg2hw.ctrl.div.q;
  assign filler_left = reg2hw.rx_clock.count.q;

  logic       byte_done;   // the last bit of a byte is sampled this clock
  logic       rx_push;
  logic       can_start;   // another byte may go on the wire from the next clock
  logic [7:0] rx_byte;
  assign byte_done = state_q == StHigh && div_cnt_q == '0 && bit_q == 3'd7;
  assign rx_push   = byte_done && rx_en;
  assign rx_byte   = {shift_q[6:0], spi_miso_i};
  // A byte starts only if its received byte will have room (counting one arriving this clock).
  assign can_start = cs && (tx_level != '0 || filler_left != '0) &&
                     (!rx_en || 32'(rx_level) + 32'(rx_push) < FIFO_DEPTH);

  logic tx_take, filler_take;
  always_comb begin
    state_d     = state_q;
    div_cnt_d   = div_cnt_q;
    bit_d       = bit_q;
    shift_d     = shift_q;
    sck_d       = sck_q;
    tx_take     = 1'b0;
    filler_take = 1'b0;
    unique case (state_q)
      StIdle: sck_d = cpol;
      StLow: begin
        if (div_cnt_q == '0) begin
          state_d   = StHigh;
          sck_d     = 1'b1;
          div_cnt_d = div;
        end else begin
          div_cnt_d = div_cnt_q - 8'd1;
        end
      end
      StHigh: begin
        if (div_cnt_q == '0) begin
          shift_d   = rx_byte;
          bit_d     = bit_q + 3'd1;
          state_d   = bit_q == 3'd7 ? StIdle : StLow;
          sck_d     = bit_q == 3'd7 ? cpol : 1'b0;
          div_cnt_d = div;
        end else begin
          div_cnt_d = div_cnt_q - 8'd1;
        end
      end
      default: state_d = StIdle;
    endcase
    // The next byte follows the last without a gap while there is more to send.
    if ((state_q == StIdle || byte_done) && can_start) begin
      tx_take     = tx_level != '0;
      filler_take = tx_level == '0;
      shift_d     = tx_level != '0 ? tx_peek[7:0] : 8'h00;
      bit_d       = 3'd0;
      state_d     = StLow;
      sck_d       = 1'b0;
      div_cnt_d   = div;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= StIdle;
      div_cnt_q <= '0;
      bit_q     <= '0;
      shift_q   <= '0;
      sck_q     <= 1'b0;
    end else begin
      state_q   <= state_d;
      div_cnt_q <= div_cnt_d;
      bit_q     <= bit_d;
      shift_q   <= shift_d;
      sck_q     <= sck_d;
    end
  end

  assign tx_pop_n = tx_take ? 3'd1 : 3'd0;

  spi_flash_fifo #(.DEPTH(FIFO_DEPTH)) u_rx_fifo (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .push_n_i    (rx_push_n),
    .push_data_i ({24'h0, rx_byte}),
    .pop_n_i     (rx_pop_n),
    .peek_o      (rx_peek),
    .level_o     (rx_level)
  );
  assign rx_push_n = rx_push ? 3'd1 : 3'd0;

  // ---- status back to the register block ----
  assign hw2reg.version.fifo_depth.d  = 16'(FIFO_DEPTH);
  assign hw2reg.version.fifo_depth.de = 1'b1;
  assign hw2reg.status.busy.d         = state_q != StIdle || tx_level != '0 || filler_left != '0;
  assign hw2reg.status.busy.de        = 1'b1;
  assign hw2reg.status.tx_level.d     = 8'(tx_level);
  assign hw2reg.status.tx_level.de    = 1'b1;
  assign hw2reg.status.rx_level.d     = 8'(rx_level);
  assign hw2reg.status.rx_level.de    = 1'b1;
  assign hw2reg.rx_clock.count.d      = filler_left - 16'd1;
  assign hw2reg.rx_clock.count.de     = filler_take;

  // ---- pins: every one from a flop ----
  assign spi_sck_o  = sck_q;
  assign spi_cs_no  = !cs;
  assign spi_mosi_o = shift_q[7];

  // Request fields the design has no use for (reads of write-only and writes of read-only registers
  // never come), and transmit bytes past the oldest, which is the only one ever taken.
  logic unused;
  assign unused = ^{tx_peek[31:8], reg2hw.tx_data4.re, reg2hw.tx_data1.re, reg2hw.tx_data1.wdata[31:8], reg2hw.tx_data1.be[3:1],
                    reg2hw.rx_data4.we, reg2hw.rx_data4.wdata, reg2hw.rx_data4.be,
                    reg2hw.rx_data1.we, reg2hw.rx_data1.wdata, reg2hw.rx_data1.be};

`ifndef SYNTHESIS
  initial assert (FIFO_DEPTH >= 4 && FIFO_DEPTH <= 128) else $fatal(1, "spi_flash_ctrl_top: FIFO_DEPTH must be 4 to 128");
`endif
endmodule
`default_nettype wire
