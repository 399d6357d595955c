`default_nettype none

// One AXI4-Lite slave in front of N AXI4-Lite register blocks and a simple local request port.
// One transaction at a time: the upstream write (AW and W, either order) or read is taken and held;
// the parent decodes the held address (dec_addr_o) into a one-hot dec_sel_i; the access is then
// forwarded to that block, or, with no bit set, offered on the local port (loc_req_o held until
// loc_ack_i) for hand-written targets and holes. The response goes upstream, always OKAY. The
// forwarded address is the upstream one: the parent subtracts each block's base.
module ep_axil_demux #(
  parameter int unsigned N  = 1,   // register blocks behind the demux
  parameter int unsigned AW = 12   // address bits of the upstream port
) (
  input  wire logic                clk_i,
  input  wire logic                rst_ni,
  // AXI4-Lite slave (upstream)
  input  wire logic [AW-1:0]       s_axil_awaddr_i,
  input  wire logic                s_axil_awvalid_i,
  output logic                     s_axil_awready_o,
  input  wire logic [31:0]         s_axil_wdata_i,
  input  wire logic [3:0]          s_axil_wstrb_i,
  input  wire logic                s_axil_wvalid_i,
  output logic                     s_axil_wready_o,
  output logic [1:0]               s_axil_bresp_o,
  output logic                     s_axil_bvalid_o,
  input  wire logic                s_axil_bready_i,
  input  wire logic [AW-1:0]       s_axil_araddr_i,
  input  wire logic                s_axil_arvalid_i,
  output logic                     s_axil_arready_o,
  output logic [31:0]              s_axil_rdata_o,
  output logic [1:0]               s_axil_rresp_o,
  output logic                     s_axil_rvalid_o,
  input  wire logic                s_axil_rready_i,
  // Decode of the held transaction, by the parent
  output logic [AW-1:0]            dec_addr_o,
  output logic                     dec_we_o,
  input  wire logic [N-1:0]        dec_sel_i,
  // AXI4-Lite masters, one per block; address, data and strobes are shared
  output logic [AW-1:0]            m_addr_o,
  output logic [31:0]              m_wdata_o,
  output logic [3:0]               m_wstrb_o,
  output logic [N-1:0]             m_awvalid_o,
  input  wire logic [N-1:0]        m_awready_i,
  output logic [N-1:0]             m_wvalid_o,
  input  wire logic [N-1:0]        m_wready_i,
  input  wire logic [N-1:0]        m_bvalid_i,
  output logic [N-1:0]             m_bready_o,
  output logic [N-1:0]             m_arvalid_o,
  input  wire logic [N-1:0]        m_arready_i,
  input  wire logic [32*N-1:0]     m_rdata_i,   // block i in bits 32*i+31:32*i
  input  wire logic [N-1:0]        m_rvalid_i,
  output logic [N-1:0]             m_rready_o,
  // Local request: the access no block decodes
  output logic                     loc_req_o,
  input  wire logic                loc_ack_i,
  input  wire logic [31:0]         loc_rdata_i
);

  typedef enum logic [2:0] {
    StIdle,     // taking AW, W and AR
    StDecode,   // the parent decodes the held address
    StForward,  // the access is with a block or the local port
    StWrResp,   // B valid
    StRdResp    // R valid
  } state_e;

  state_e        state_q, state_d;
  logic          aw_held_q, aw_held_d;
  logic          w_held_q, w_held_d;
  logic          we_q, we_d;
  logic [AW-1:0] addr_q, addr_d;
  logic [31:0]   wdata_q, wdata_d;
  logic [3:0]    wstrb_q, wstrb_d;
  logic [31:0]   rdata_q, rdata_d;
  logic [N-1:0]  sel_q, sel_d;
  logic          req_done_q, req_done_d;  // AW (or AR) taken by the block
  logic          dat_done_q, dat_done_d;  // W taken by the block

  assign s_axil_awready_o = state_q == StIdle && !aw_held_q;
  assign s_axil_wready_o  = state_q == StIdle && !w_held_q;
  // A read waits while a write is on offer or half taken, as in the register blocks.
  assign s_axil_arready_o = state_q == StIdle && !aw_held_q && !w_held_q && !s_axil_awvalid_i &&
                            !s_axil_wvalid_i;
  assign s_axil_bvalid_o  = state_q == StWrResp;
  assign s_axil_bresp_o   = 2'b00;
  assign s_axil_rvalid_o  = state_q == StRdResp;
  assign s_axil_rdata_o   = rdata_q;
  assign s_axil_rresp_o   = 2'b00;

  assign dec_addr_o = addr_q;
  assign dec_we_o   = we_q;
  assign m_addr_o   = addr_q;
  assign m_wdata_o  = wdata_q;
  assign m_wstrb_o  = wstrb_q;

  logic fwd;  // forwarding to a block this clock
  assign fwd = state_q == StForward && |sel_q;
  assign m_awvalid_o = {N{fwd && we_q && !req_done_q}} & sel_q;
  assign m_wvalid_o  = {N{fwd && we_q && !dat_done_q}} & sel_q;
  assign m_arvalid_o = {N{fwd && !we_q && !req_done_q}} & sel_q;
  assign m_bready_o  = {N{fwd && we_q}} & sel_q;
  assign m_rready_o  = {N{fwd && !we_q}} & sel_q;
  assign loc_req_o   = state_q == StForward && ~|sel_q;

  logic [31:0] blk_rdata;
  always_comb begin
    blk_rdata = '0;
    for (int unsigned i = 0; i < N; i++) begin
      if (sel_q[i]) blk_rdata = m_rdata_i[32*i+:32];
    end
  end

  always_comb begin
    state_d    = state_q;
    aw_held_d  = aw_held_q;
    w_held_d   = w_held_q;
    we_d       = we_q;
    addr_d     = addr_q;
    wdata_d    = wdata_q;
    wstrb_d    = wstrb_q;
    rdata_d    = rdata_q;
    sel_d      = sel_q;
    req_done_d = req_done_q;
    dat_done_d = dat_done_q;
    unique case (state_q)
      StIdle: begin
        if (s_axil_awvalid_i && s_axil_awready_o) begin
          addr_d    = s_axil_awaddr_i;
          aw_held_d = 1'b1;
        end
        if (s_axil_wvalid_i && s_axil_wready_o) begin
          wdata_d  = s_axil_wdata_i;
          wstrb_d  = s_axil_wstrb_i;
          w_held_d = 1'b1;
        end
        if (aw_held_d && w_held_d) begin
          aw_held_d = 1'b0;
          w_held_d  = 1'b0;
          we_d      = 1'b1;
          state_d   = StDecode;
        end else if (s_axil_arvalid_i && s_axil_arready_o) begin
          addr_d  = s_axil_araddr_i;
          wstrb_d = 4'hf;  // a read covers the whole word
          we_d    = 1'b0;
          state_d = StDecode;
        end
      end
      StDecode: begin
        sel_d      = dec_sel_i;
        req_done_d = 1'b0;
        dat_done_d = 1'b0;
        state_d    = StForward;
      end
      StForward: begin
        if (~|sel_q) begin
          if (loc_ack_i) begin
            rdata_d = we_q ? '0 : loc_rdata_i;
            state_d = we_q ? StWrResp : StRdResp;
          end
        end else if (we_q) begin
          if (|(m_awvalid_o & m_awready_i)) req_done_d = 1'b1;
          if (|(m_wvalid_o & m_wready_i)) dat_done_d = 1'b1;
          if (|(m_bvalid_i & sel_q)) state_d = StWrResp;
        end else begin
          if (|(m_arvalid_o & m_arready_i)) req_done_d = 1'b1;
          if (|(m_rvalid_i & sel_q)) begin
            rdata_d = blk_rdata;
            state_d = StRdResp;
          end
        end
      end
      StWrResp: if (s_axil_bready_i) state_d = StIdle;
      StRdResp: if (s_axil_rready_i) state_d = StIdle;
      default: state_d = StIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q    <= StIdle;
      aw_held_q  <= 1'b0;
      w_held_q   <= 1'b0;
      we_q       <= 1'b0;
      addr_q     <= '0;
      wdata_q    <= '0;
      wstrb_q    <= '0;
      rdata_q    <= '0;
      sel_q      <= '0;
      req_done_q <= 1'b0;
      dat_done_q <= 1'b0;
    end else begin
      state_q    <= state_d;
      aw_held_q  <= aw_held_d;
      w_held_q   <= w_held_d;
      we_q       <= we_d;
      addr_q     <= addr_d;
      wdata_q    <= wdata_d;
      wstrb_q    <= wstrb_d;
      rdata_q    <= rdata_d;
      sel_q      <= sel_d;
      req_done_q <= req_done_d;
      dat_done_q <= dat_done_d;
    end
  end

endmodule

`default_nettype wire
