`default_nettype none

// The PCI configuration access capability's window (PciCfgWindow in the model): a config access to
// pci_cfg_data moves cap.length bytes (1, 2 or 4) to or from BAR cap.bar at cap.offset, in the low
// bytes of pci_cfg_data. Any other length, an offset not aligned to it, a BAR the endpoint does not
// have or an offset past the BAR's end does nothing and reads 0. The access leaves as one AXI4-Lite
// word access with byte strobes on the master of that BAR (one master per BAR, sharing address and
// data), which the endpoint puts in front of the BAR's demux beside the host's port.
module ep_pci_cfg_window #(
  parameter logic [5:0]  BarPresent = 6'b000111,  // the BARs that have a master
  parameter logic [47:0] BarAw      = '0          // BAR i's address bits in bits 8*i+7:8*i
) (
  input  wire logic         clk_i,
  input  wire logic         rst_ni,
  // pci_cfg_data (external register of virtio_pci_cfg_cap) and the window's fields
  input  wire logic         re_i,
  input  wire logic         we_i,
  input  wire logic [31:0]  wdata_i,
  output logic              ack_o,
  output logic [31:0]       rdata_o,
  input  wire logic [7:0]   bar_i,
  input  wire logic [31:0]  offset_i,
  input  wire logic [31:0]  length_i,
  // AXI4-Lite masters, one per BAR; address, data and strobes are shared
  output logic [31:0]       m_addr_o,
  output logic [31:0]       m_wdata_o,
  output logic [3:0]        m_wstrb_o,
  output logic [5:0]        m_awvalid_o,
  input  wire logic [5:0]   m_awready_i,
  output logic [5:0]        m_wvalid_o,
  input  wire logic [5:0]   m_wready_i,
  input  wire logic [5:0]   m_bvalid_i,
  output logic [5:0]        m_bready_o,
  output logic [5:0]        m_arvalid_o,
  input  wire logic [5:0]   m_arready_i,
  input  wire logic [191:0] m_rdata_i,  // BAR i in bits 32*i+31:32*i
  input  wire logic [5:0]   m_rvalid_i,
  output logic [5:0]        m_rready_o
);

  typedef enum logic [2:0] {
    StIdle,   // waiting for a pci_cfg_data access
    StWrite,  // AW and W on offer
    StResp,   // waiting for B or R
    StRead,   // AR on offer
    StDone    // ack_o for one clock
  } state_e;

  state_e      state_q, state_d;
  logic [2:0]  bar_q, bar_d;
  logic        aw_done_q, aw_done_d, w_done_q, w_done_d;
  logic [31:0] rdata_q, rdata_d;

  logic [1:0]  lane;
  logic [3:0]  strobe;
  logic [31:0] mask;
  logic        width_ok, in_bar, go;
  assign lane     = offset_i[1:0];
  assign width_ok = (length_i == 32'd1) || (length_i == 32'd2 && !offset_i[0]) ||
                    (length_i == 32'd4 && offset_i[1:0] == 2'b00);
  assign strobe   = length_i == 32'd4 ? 4'hf : length_i == 32'd2 ? 4'h3 : 4'h1;
  assign mask     = length_i == 32'd4 ? 32'hffff_ffff : length_i == 32'd2 ? 32'h0000_ffff : 32'h0000_00ff;
  // The BAR exists and the offset lies inside it.
  assign in_bar   = bar_i < 8'd6 && BarPresent[bar_i[2:0]] && (64'(offset_i) >> BarAw[8*bar_i[2:0]+:8]) == 64'h0;
  assign go       = (re_i || we_i) && width_ok && in_bar;

  assign m_addr_o  = {offset_i[31:2], 2'b00};
  assign m_wdata_o = (wdata_i & mask) << (8 * lane);
  assign m_wstrb_o = strobe << lane;
  assign ack_o     = state_q == StDone;
  assign rdata_o   = rdata_q;

  always_comb begin
    m_awvalid_o = '0;
    m_wvalid_o  = '0;
    m_arvalid_o = '0;
    m_bready_o  = '0;
    m_rready_o  = '0;
    m_awvalid_o[bar_q] = state_q == StWrite && !aw_done_q;
    m_wvalid_o[bar_q]  = state_q == StWrite && !w_done_q;
    m_arvalid_o[bar_q] = state_q == StRead;
    m_bready_o[bar_q]  = state_q == StResp;
    m_rready_o[bar_q]  = state_q == StResp;
  end

  always_comb begin
    state_d   = state_q;
    bar_d     = bar_q;
    aw_done_d = aw_done_q;
    w_done_d  = w_done_q;
    rdata_d   = rdata_q;
    unique case (state_q)
      StIdle: begin
        if (re_i || we_i) begin
          rdata_d   = 32'h0;
          bar_d     = bar_i[2:0];
          aw_done_d = 1'b0;
          w_done_d  = 1'b0;
          if (!go) state_d = StDone;
          else state_d = we_i ? StWrite : StRead;
        end
      end
      StWrite: begin
        if (m_awready_i[bar_q]) aw_done_d = 1'b1;
        if (m_wready_i[bar_q]) w_done_d = 1'b1;
        if (aw_done_d && w_done_d) state_d = StResp;
      end
      StRead: if (m_arready_i[bar_q]) state_d = StResp;
      StResp: begin
        if (m_bvalid_i[bar_q]) state_d = StDone;
        if (m_rvalid_i[bar_q]) begin
          rdata_d = (m_rdata_i[32*bar_q+:32] >> (8 * lane)) & mask;
          state_d = StDone;
        end
      end
      StDone: state_d = StIdle;
      default: state_d = StIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= StIdle;
      bar_q     <= '0;
      aw_done_q <= 1'b0;
      w_done_q  <= 1'b0;
      rdata_q   <= '0;
    end else begin
      state_q   <= state_d;
      bar_q     <= bar_d;
      aw_done_q <= aw_done_d;
      w_done_q  <= w_done_d;
      rdata_q   <= rdata_d;
    end
  end

endmodule

`default_nettype wire
