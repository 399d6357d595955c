`default_nettype none

// One AXI4-Lite slave in front of N AXI4-Lite register blocks and a simple local request port.
// One transaction at a time: the upstream write (AW and W, either order) or read is taken and held;
// the parent decodes the held address (dec_addr_o) into a one-hot dec_sel_i; the access is then
// forwarded to that block, or, with no bit set, offered on the local port (loc_req_o held until
// loc_ack_i) for hand-written targets and holes. The response goes upstream, always OKAY. The
// forwarded address is the upstream one: the parent subtracts each block's base. The upstream
// handshake is the register adapter's (hw/rtl/prim/axil_adapter_reg.sv), with its assertions.
module ep_axil_demux #(
  parameter int unsigned N  = 1,   // register blocks behind the demux
  parameter int unsigned AW = 12   // address bits of the upstream port
) (
  input  wire logic                clk_i,
  input  wire logic                rst_ni,
  // AXI4-Lite slave (upstream); the address's low AW bits are decoded
  input  wire axil_pkg::axil_req_t s_req_i,
  output axil_pkg::axil_rsp_t      s_rsp_o,
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

  logic                we, re;        // the adapter holds a write or a read
  logic [AW-1:0]       addr;
  logic [31:0]         wdata;
  logic [3:0]          wstrb;
  logic                done;          // the access ends this clock
  logic [31:0]         rdata;

  axil_adapter_reg #(.AW(AW)) u_adapter (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .axil_req_i(s_req_i),
    .axil_rsp_o(s_rsp_o),
    .we_o      (we),
    .re_o      (re),
    .addr_o    (addr),
    .wdata_o   (wdata),
    .wstrb_o   (wstrb),
    .done_i    (done),
    .rdata_i   (rdata)
  );

  // An access taken by the adapter is decoded for a clock, then forwarded until it is answered.
  logic          forward_q, forward_d;  // past the decode clock
  logic [N-1:0]  sel_q, sel_d;
  logic          req_done_q, req_done_d;  // AW (or AR) taken by the block
  logic          dat_done_q, dat_done_d;  // W taken by the block

  assign dec_addr_o = addr;
  assign dec_we_o   = we;
  assign m_addr_o   = addr;
  assign m_wdata_o  = wdata;
  assign m_wstrb_o  = we ? wstrb : 4'hf;  // a read covers the whole word

  logic fwd;  // forwarding to a block this clock
  assign fwd = forward_q && (we || re) && |sel_q;
  assign m_awvalid_o = {N{fwd && we && !req_done_q}} & sel_q;
  assign m_wvalid_o  = {N{fwd && we && !dat_done_q}} & sel_q;
  assign m_arvalid_o = {N{fwd && re && !req_done_q}} & sel_q;
  assign m_bready_o  = {N{fwd && we}} & sel_q;
  assign m_rready_o  = {N{fwd && re}} & sel_q;
  assign loc_req_o   = forward_q && (we || re) && ~|sel_q;

  logic [31:0] blk_rdata;
  always_comb begin
    blk_rdata = '0;
    for (int unsigned i = 0; i < N; i++) begin
      if (sel_q[i]) blk_rdata = m_rdata_i[32*i+:32];
    end
  end

  always_comb begin
    forward_d  = forward_q;
    sel_d      = sel_q;
    req_done_d = req_done_q;
    dat_done_d = dat_done_q;
    done       = 1'b0;
    rdata      = '0;
    if ((we || re) && !forward_q) begin
      sel_d      = dec_sel_i;
      req_done_d = 1'b0;
      dat_done_d = 1'b0;
      forward_d  = 1'b1;
    end else if (loc_req_o) begin
      done  = loc_ack_i;
      rdata = loc_rdata_i;
    end else if (fwd && we) begin
      if (|(m_awvalid_o & m_awready_i)) req_done_d = 1'b1;
      if (|(m_wvalid_o & m_wready_i)) dat_done_d = 1'b1;
      done = |(m_bvalid_i & sel_q);
    end else if (fwd) begin
      if (|(m_arvalid_o & m_arready_i)) req_done_d = 1'b1;
      done  = |(m_rvalid_i & sel_q);
      rdata = blk_rdata;
    end
    if (done) forward_d = 1'b0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      forward_q  <= 1'b0;
      sel_q      <= '0;
      req_done_q <= 1'b0;
      dat_done_q <= 1'b0;
    end else begin
      forward_q  <= forward_d;
      sel_q      <= sel_d;
      req_done_q <= req_done_d;
      dat_done_q <= dat_done_d;
    end
  end

endmodule

`default_nettype wire
